"""The licensing service (SiCantik-style) as a Starlette app."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route

from demo.licensing.api import LicensingApi
from demo.licensing.files import FileStore, store_dir_for
from demo.licensing.intake import MAX_UPLOAD_BYTES, IntakeApi
from demo.licensing.tables import LicensingTables, licensing_tables
from demo.service_common.app import build_app
from demo.service_common.faults import Faults
from demo.service_common.feed import changes_endpoint
from demo.service_common.push import FeedPush


def _routes(tables: LicensingTables, files: FileStore, faults: Faults) -> list[BaseRoute]:
    api = LicensingApi(tables)
    intake = IntakeApi(tables, api.coll, files, faults)
    number = "/api/v1/permohonan/{no_permohonan:path}"
    return [
        Route("/api/v1/permohonan", intake.buat, methods=["POST"], max_body_size=MAX_UPLOAD_BYTES),
        Route("/api/v1/permohonan/cari", api.cari, methods=["POST"]),
        Route(f"{number}/status", intake.ubah_status, methods=["POST"]),
        Route(f"{number}/berkas/{{id:str}}", intake.unduh, methods=["GET"]),
        Route(f"{number}/berkas", intake.daftar_berkas, methods=["GET"]),
        Route(f"{number}/berkas", intake.unggah, methods=["POST"], max_body_size=MAX_UPLOAD_BYTES),
        Route(number, api.ambil, methods=["GET"]),
        Route("/api/v1/jenis-izin", intake.jenis_izin, methods=["GET"]),
        Route("/api/v1/statistik", api.statistik, methods=["GET"]),
        Route("/api/v1/perubahan", changes_endpoint(tables.perubahan), methods=["GET"]),
    ]


def create_app(
    *,
    db_url: str,
    api_key: str,
    latency_ms: int = 0,
    failure_rate: float = 0.0,
    files_dir: str | Path | None = None,
    push: FeedPush | None = None,
) -> Starlette:
    """`files_dir` holds the documents' contents (default: beside a SQLite database);
    `push`: a signed webhook to the hub after each change (demo.service_common.push)."""
    tables = licensing_tables()
    files = FileStore(Path(files_dir) if files_dir is not None else store_dir_for(db_url))
    faults = Faults(latency_ms=latency_ms, failure_rate=failure_rate)
    app = build_app(
        routes=_routes(tables, files, faults),
        metadata=tables.metadata,
        db_url=db_url,
        api_key=api_key,
        faults=faults,
        on_start=files.open,
        push=push,
        feed=tables.perubahan,
    )
    return app
