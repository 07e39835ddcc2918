"""The licensing service (SiCantik-style) as a Starlette app."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route

from demo.licensing.api import LicensingApi
from demo.licensing.tables import licensing_tables
from demo.service_common.app import build_app
from demo.service_common.feed import changes_endpoint


def create_app(
    *, db_url: str, api_key: str, latency_ms: int = 0, failure_rate: float = 0.0
) -> Starlette:
    tables = licensing_tables()
    api = LicensingApi(tables)
    routes: list[BaseRoute] = [
        Route("/api/v1/permohonan/cari", api.cari, methods=["POST"]),
        Route("/api/v1/permohonan/{no_permohonan:path}/status", api.ubah_status, methods=["POST"]),
        Route("/api/v1/permohonan/{no_permohonan:path}", api.ambil, methods=["GET"]),
        Route("/api/v1/jenis-izin", api.jenis_izin, methods=["GET"]),
        Route("/api/v1/statistik", api.statistik, methods=["GET"]),
        Route("/api/v1/perubahan", changes_endpoint(tables.perubahan), methods=["GET"]),
    ]
    return build_app(
        routes=routes,
        metadata=tables.metadata,
        db_url=db_url,
        api_key=api_key,
        latency_ms=latency_ms,
        failure_rate=failure_rate,
    )
