"""The complaint service (LAPOR!-style) as a Starlette app."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route

from demo.complaints.api import ComplaintsApi
from demo.complaints.tables import complaint_tables
from demo.service_common.app import build_app
from demo.service_common.feed import changes_endpoint


def create_app(
    *, db_url: str, api_key: str, latency_ms: int = 0, failure_rate: float = 0.0
) -> Starlette:
    tables = complaint_tables()
    api = ComplaintsApi(tables)
    routes: list[BaseRoute] = [
        Route("/api/v1/laporan/cari", api.cari, methods=["POST"]),
        Route("/api/v1/laporan", api.kirim, methods=["POST"]),
        Route("/api/v1/laporan/{no_tiket:path}/status", api.ubah_status, methods=["POST"]),
        Route("/api/v1/laporan/{no_tiket:path}", api.ambil, methods=["GET"]),
        Route("/api/v1/kategori", api.kategori, methods=["GET"]),
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
