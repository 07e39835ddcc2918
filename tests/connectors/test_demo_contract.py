"""The REST backends against the real sample services of demo/ (in process, over ASGI):
the two sides of demo/API.md agree."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx2 as httpx
import pytest
from tests.connectors.fake_services import laporan, permohonan

from connectors import (
    ApplicationFilter,
    ApplicationStatus,
    ComplaintFilter,
    ComplaintStatus,
    ComplaintVisibility,
    NewComplaint,
    PageRequest,
    RecordNotFound,
    RestComplaintSource,
    RestLicensingSource,
    SourceRejected,
    SourceUnavailable,
)
from connectors.records import ComplaintClassification

API_KEY = "kunci-kontrak"
NIK = "1471084107900001"


@asynccontextmanager
async def asgi_transport(app: Any) -> AsyncIterator[httpx.ASGITransport]:
    async with app.router.lifespan_context(app) as state:

        async def with_state(scope: Any, receive: Any, send: Any) -> None:
            await app({**scope, "state": dict(state or {})}, receive, send)

        yield httpx.ASGITransport(app=with_state)


async def walk(list_page: Callable[[PageRequest], Any], first: int) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        page = await list_page(PageRequest(first=first, after=after))
        seen.extend(item.number for item in page.items)
        if not page.has_next:
            return seen
        after = page.end_cursor


async def test_the_licensing_backend_speaks_the_demo_service(tmp_path) -> None:
    licensing_app = pytest.importorskip("demo.licensing.app")
    storage = pytest.importorskip("demo.licensing.storage")
    url = f"sqlite:///{tmp_path / 'izin.db'}"
    records = [permohonan(i, nik=NIK if i % 2 else "1" * 16) for i in range(1, 26)]
    storage.load(
        url,
        permit_types=[
            {"kode": "PBG", "nama": "Persetujuan Bangunan Gedung", "sla_hari": 20}
        ],
        applications=records,
    )
    app = licensing_app.create_app(db_url=url, api_key=API_KEY)
    async with asgi_transport(app) as transport:
        src = RestLicensingSource("http://demo", api_key=API_KEY, transport=transport)
        try:
            await src.check()
            assert [t.code for t in await src.permit_types()] == ["PBG"]
            numbers = [r["no_permohonan"] for r in records]
            assert sorted(await src.applications_by_number(numbers)) == sorted(numbers)
            by_nik = await src.applications_by_applicant([NIK])
            assert len(by_nik[NIK]) == 13
            listed = await walk(
                lambda p: src.list_applications(ApplicationFilter(), p), 7
            )
            assert listed == numbers[::-1]
            updated = await src.update_status(
                numbers[0],
                ApplicationStatus.DATA_ENTRY,
                note="lengkap",
                actor="p1",
                idempotency_key="k-1",
            )
            assert updated.status is ApplicationStatus.DATA_ENTRY
            with pytest.raises(SourceRejected):
                await src.update_status(
                    numbers[0], ApplicationStatus.ISSUED, note=None, actor="p"
                )
            with pytest.raises(RecordNotFound):
                await src.update_status(
                    "503/X/0-A", ApplicationStatus.ISSUED, note=None, actor="p"
                )
            feed = await src.changes_since(None, limit=1000)
            assert numbers[0] in {c.key for c in feed.changes} and not feed.has_more
            assert src.skipped == {}
        finally:
            await src.aclose()
        wrong = RestLicensingSource("http://demo", api_key="salah", transport=transport)
        with pytest.raises(SourceUnavailable, match="API key rejected"):
            await wrong.permit_types()
        await wrong.aclose()


async def test_the_complaint_backend_speaks_the_demo_service(tmp_path) -> None:
    complaints_app = pytest.importorskip("demo.complaints.app")
    storage = pytest.importorskip("demo.complaints.storage")
    url = f"sqlite:///{tmp_path / 'lapor.db'}"
    records = [
        laporan(i, kerahasiaan="RAHASIA" if i % 4 == 0 else "PUBLIK")
        for i in range(1, 13)
    ]
    storage.load(url, categories=["Infrastruktur", "Kebersihan"], complaints=records)
    app = complaints_app.create_app(db_url=url, api_key=API_KEY)
    async with asgi_transport(app) as transport:
        src = RestComplaintSource("http://demo", api_key=API_KEY, transport=transport)
        try:
            assert await src.categories() == ["Infrastruktur", "Kebersihan"]
            numbers = [r["no_tiket"] for r in records]
            assert sorted(await src.complaints_by_number(numbers)) == sorted(numbers)
            confidential = ComplaintFilter(
                visibilities=(ComplaintVisibility.CONFIDENTIAL,)
            )
            assert (
                len(await walk(lambda p: src.list_complaints(confidential, p), 2)) == 3
            )
            new = NewComplaint(
                "Sampah menumpuk",
                "Belum diangkut.",
                ComplaintClassification.COMPLAINT,
                "Kebersihan",
                "1471081002",
                reporter_nik=NIK,
            )
            created = await src.submit(new, idempotency_key="lapor-1")
            assert await src.submit(new, idempotency_key="lapor-1") == created
            assert created.status is ComplaintStatus.RECEIVED
            by_reporter = await src.complaints_by_reporter([NIK])
            assert [c.number for c in by_reporter[NIK]] == [created.number]
            verified = await src.update_status(
                created.number, ComplaintStatus.VERIFIED, note=None, actor="p1"
            )
            assert verified.status is ComplaintStatus.VERIFIED
            assert src.skipped == {}
        finally:
            await src.aclose()
