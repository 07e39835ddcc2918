"""The licensing service (SiCantik-style) as a Starlette app."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from demo.licensing.api import LicensingApi
from demo.licensing.tables import LicensingTables, licensing_tables
from demo.service_common.app import service_app_factory


def _routes(tables: LicensingTables) -> list[BaseRoute]:
    api = LicensingApi(tables)
    return [
        Route("/api/v1/permohonan/cari", api.cari, methods=["POST"]),
        Route("/api/v1/permohonan/{no_permohonan:path}/status", api.ubah_status, methods=["POST"]),
        Route("/api/v1/permohonan/{no_permohonan:path}", api.ambil, methods=["GET"]),
        Route("/api/v1/jenis-izin", api.jenis_izin, methods=["GET"]),
        Route("/api/v1/statistik", api.statistik, methods=["GET"]),
    ]


#: `create_app(*, db_url, api_key, latency_ms=0, failure_rate=0.0) -> Starlette`
create_app = service_app_factory(licensing_tables, _routes)
