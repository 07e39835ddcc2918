"""The complaint REST backend against a fake service speaking demo/API.md."""

from __future__ import annotations

import pytest
from tests.connectors.fake_services import API_KEY, COMPLAINTS, FakeService, laporan

from connectors.complaints.rest import RestComplaintSource
from connectors.errors import RecordNotFound, SourceRejected, SourceUnavailable
from connectors.records import (
    ComplaintChannel,
    ComplaintClassification,
    ComplaintFilter,
    ComplaintStatus,
    ComplaintVisibility,
    NewComplaint,
    PageRequest,
)

NIK = "1471085203880002"


@pytest.fixture
def service() -> FakeService:
    records = [laporan(i, nik=NIK if i % 2 else None) for i in range(1, 11)]
    records.append(
        laporan(11, kerahasiaan="RAHASIA", status="SELESAI", kategori="Kebersihan")
    )
    return FakeService(COMPLAINTS, records)


@pytest.fixture
async def source(service: FakeService):
    src = RestComplaintSource(
        "http://127.0.0.1:9", api_key=API_KEY, transport=service.transport()
    )
    yield src
    await src.aclose()


NEW = NewComplaint(
    title="Sampah menumpuk",
    content="Sampah tidak diangkut seminggu.",
    classification=ComplaintClassification.COMPLAINT,
    category="Kebersihan",
    kelurahan_code="1471081002",
    location="Jl. Delima",
    channel=ComplaintChannel.MOBILE_APP,
    visibility=ComplaintVisibility.ANONYMOUS,
    reporter_nik=NIK,
)


async def test_a_laporan_is_parsed_into_a_complaint_record(source) -> None:
    found = await source.complaints_by_number(["LPR-2025-000011", "LPR-2025-404404"])
    complaint = found["LPR-2025-000011"]
    assert list(found) == ["LPR-2025-000011"]
    assert complaint.visibility is ComplaintVisibility.CONFIDENTIAL
    assert (
        complaint.status is ComplaintStatus.RESOLVED
        and complaint.source_status == "SELESAI"
    )
    assert complaint.classification is ComplaintClassification.COMPLAINT
    assert complaint.channel is ComplaintChannel.WEBSITE
    assert complaint.dispositions[0].to_unit == "Dinas PUPR"
    assert complaint.follow_ups[0].content == "ditinjau"
    assert complaint.history[0].status is ComplaintStatus.RECEIVED


async def test_submit_posts_the_input_with_an_idempotency_key_once(
    source, service
) -> None:
    first = await source.submit(NEW, idempotency_key="lapor-1")
    again = await source.submit(NEW, idempotency_key="lapor-1")
    assert first == again
    assert first.status is ComplaintStatus.RECEIVED
    assert first.visibility is ComplaintVisibility.ANONYMOUS
    assert first.channel is ComplaintChannel.MOBILE_APP
    assert service.bodies == [] and len(service.records) == 12
    assert service.headers[-1]["Idempotency-Key"] == "lapor-1"


async def test_a_refused_submission_is_source_rejected(source) -> None:
    from dataclasses import replace

    with pytest.raises(SourceRejected, match="refused the request") as refused:
        await source.submit(replace(NEW, title=""))
    assert "judul wajib diisi" in refused.value.source_says


async def test_complaints_by_reporter_group_newest_first(source, service) -> None:
    grouped = await source.complaints_by_reporter([NIK])
    numbers = [c.number for c in grouped[NIK]]
    assert len(numbers) == 6  # five odd ones and the confidential one
    submitted = [c.submitted_at for c in grouped[NIK]]
    assert submitted == sorted(submitted, reverse=True)
    assert service.bodies[0]["nik_pelapor"] == [NIK]


async def test_the_filter_becomes_the_search_body(source, service) -> None:
    flt = ComplaintFilter(
        categories=("Kebersihan",),
        visibilities=(ComplaintVisibility.CONFIDENTIAL,),
        classifications=(ComplaintClassification.COMPLAINT,),
        statuses=(ComplaintStatus.RESOLVED,),
    )
    page = await source.list_complaints(flt, PageRequest(first=5, with_total=True))
    assert [c.number for c in page.items] == ["LPR-2025-000011"] and page.total == 1
    body = service.bodies[0]
    assert body["kerahasiaan"] == ["RAHASIA"] and body["klasifikasi"] == ["PENGADUAN"]
    assert body["status"] == ["SELESAI"] and body["kategori"] == ["Kebersihan"]


async def test_listing_pages_through_the_services_cursor(source) -> None:
    seen, after = [], None
    while True:
        page = await source.list_complaints(
            ComplaintFilter(), PageRequest(first=4, after=after)
        )
        seen.extend(c.number for c in page.items)
        if not page.has_next:
            break
        after = page.end_cursor
    assert seen == [f"LPR-2025-{i:06d}" for i in range(11, 0, -1)]


async def test_an_unmappable_record_is_skipped_and_counted(source, service) -> None:
    service.records[3]["kanal"] = "FAKSIMILE"
    del service.records[4]["judul"]
    page = await source.list_complaints(ComplaintFilter(), PageRequest(first=50))
    assert len(page.items) == 9
    assert (
        source.skipped["kanal='FAKSIMILE'"] == 1 and sum(source.skipped.values()) == 2
    )


async def test_update_status_maps_404_and_409(source) -> None:
    updated = await source.update_status(
        "LPR-2025-000001", ComplaintStatus.VERIFIED, note="valid", actor="petugas"
    )
    assert updated.status is ComplaintStatus.VERIFIED
    with pytest.raises(RecordNotFound):
        await source.update_status(
            "LPR-0", ComplaintStatus.VERIFIED, note=None, actor="p"
        )
    with pytest.raises(SourceRejected, match="refused the request") as refused:
        await source.update_status(
            "LPR-2025-000011", ComplaintStatus.VERIFIED, note=None, actor="p"
        )
    assert "TRANSISI_TIDAK_VALID" in refused.value.source_says


async def test_categories_health_and_outage(source, service) -> None:
    assert await source.categories() == ["Infrastruktur", "Kebersihan"]
    await source.check()
    service.down = True
    await source.check()  # /health is not subject to injected faults
    with pytest.raises(SourceUnavailable):
        await source.categories()
