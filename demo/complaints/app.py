"""The complaint service (LAPOR!-style) as a Starlette app."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from demo.complaints.api import ComplaintsApi
from demo.complaints.tables import ComplaintTables, complaint_tables
from demo.service_common.app import service_app_factory


def _routes(tables: ComplaintTables) -> list[BaseRoute]:
    api = ComplaintsApi(tables)
    return [
        Route("/api/v1/laporan/cari", api.cari, methods=["POST"]),
        Route("/api/v1/laporan", api.kirim, methods=["POST"]),
        Route("/api/v1/laporan/{no_tiket:path}/status", api.ubah_status, methods=["POST"]),
        Route("/api/v1/laporan/{no_tiket:path}", api.ambil, methods=["GET"]),
        Route("/api/v1/kategori", api.kategori, methods=["GET"]),
        Route("/api/v1/statistik", api.statistik, methods=["GET"]),
    ]


#: `create_app(*, db_url, api_key, latency_ms=0, failure_rate=0.0) -> Starlette`
create_app = service_app_factory(complaint_tables, _routes)
