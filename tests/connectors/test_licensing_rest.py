"""The licensing REST backend against a fake service speaking demo/API.md."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import httpx2 as httpx
import pytest
from tests.connectors.fake_services import API_KEY, LICENSING, FakeService, permohonan

from connectors.errors import (
    RecordNotFound,
    SourceRejected,
    SourceTimeout,
    SourceUnavailable,
)
from connectors.licensing.rest import RestLicensingSource
from connectors.records import (
    ApplicantKind,
    ApplicationFilter,
    ApplicationStatus,
    PageRequest,
    RequestKind,
)

NIK_A = "1471084107900001"
NIK_B = "1471081203800001"


@pytest.fixture
def service() -> FakeService:
    records = [permohonan(i, nik=NIK_A if i % 3 else NIK_B) for i in range(1, 31)]
    records.append(permohonan(31, nik=NIK_B, company="CV Maju Jaya", status="TERBIT"))
    return FakeService(LICENSING, records)


@pytest.fixture
async def source(service: FakeService):
    src = RestLicensingSource(
        "http://127.0.0.1:9", api_key=API_KEY, transport=service.transport()
    )
    yield src
    await src.aclose()


async def test_a_permohonan_is_parsed_into_an_application_record(source) -> None:
    number = "503/DPMPTSP/2025/000031-7Q4K"
    found = await source.applications_by_number([number])
    app = found[number]
    assert app.applicant_kind is ApplicantKind.COMPANY
    assert app.company_name == "CV Maju Jaya"
    assert app.permit_type.code == "PBG" and app.permit_type.service_level_days == 20
    assert app.request_kind is RequestKind.NEW
    assert app.status is ApplicationStatus.ISSUED and app.source_status == "TERBIT"
    assert app.received_at.utcoffset() == timedelta(hours=7)
    assert app.requirements[0].name == "KTP pemohon" and app.requirements[0].fulfilled
    assert app.history[0].status is ApplicationStatus.SUBMITTED
    assert app.history[0].source_status == "DIAJUKAN"


async def test_lookup_by_number_is_one_search_with_the_key_list(
    source, service
) -> None:
    numbers = [f"503/DPMPTSP/2025/{i:06d}-7Q4K" for i in (1, 2, 3)] + [
        "503/X/2025/999999-ZZZZ"
    ]
    found = await source.applications_by_number(numbers + numbers[:1])
    assert sorted(found) == sorted(numbers[:3])
    assert service.requests["POST cari"] == 1
    assert service.bodies[0] == {"no_permohonan": numbers, "limit": 4}


async def test_2500_keys_are_looked_up_in_three_requests(source, service) -> None:
    numbers = [f"503/DPMPTSP/2025/{i:06d}-7Q4K" for i in range(1, 2501)]
    found = await source.applications_by_number(numbers)
    assert len(found) == 31
    assert service.requests["POST cari"] == 3
    assert sorted(len(b["no_permohonan"]) for b in service.bodies) == [500, 1000, 1000]


async def test_applications_by_applicant_page_through_and_group_newest_first(
    service,
) -> None:
    service.records.extend(permohonan(100 + i, nik=NIK_A) for i in range(2100))
    src = RestLicensingSource(
        "http://127.0.0.1:9", api_key=API_KEY, transport=service.transport()
    )
    try:
        grouped = await src.applications_by_applicant([NIK_A, NIK_B, "1" * 16])
    finally:
        await src.aclose()
    assert len(grouped[NIK_A]) == 20 + 2100 and len(grouped[NIK_B]) == 11
    assert service.requests["POST cari"] == 3  # 1,000 + 1,000 + 131 records
    received = [a.received_at for a in grouped[NIK_A]]
    assert received == sorted(received, reverse=True)
    assert "1" * 16 not in grouped


async def test_listing_passes_the_services_cursor_through(source, service) -> None:
    flt = ApplicationFilter(applicant_niks=(NIK_A,))
    seen, after, pages = [], None, 0
    while True:
        page = await source.list_applications(
            flt, PageRequest(first=7, after=after, with_total=True)
        )
        pages += 1
        seen.extend(a.number for a in page.items)
        assert page.total == 20
        if not page.has_next:
            break
        after = page.end_cursor
    assert pages == 3 and len(seen) == len(set(seen)) == 20
    assert (
        service.bodies[0]["cursor"] is None and service.bodies[1]["cursor"] is not None
    )


async def test_the_filter_becomes_the_search_body(source, service) -> None:
    flt = ApplicationFilter(
        kelurahan_codes=("1471081001",),
        statuses=(ApplicationStatus.ISSUED, ApplicationStatus.FILE_CHECK),
        permit_types=("PBG",),
        received_from=date(2025, 3, 4),
        received_to=date(2025, 3, 5),
        name_contains="maju",
    )
    page = await source.list_applications(flt, PageRequest(first=10))
    assert [a.company_name for a in page.items] == ["CV Maju Jaya"]
    assert service.bodies[0] == {
        "kode_kelurahan": ["1471081001"],
        "status": ["TERBIT", "PEMERIKSAAN_BERKAS"],
        "kode_jenis_izin": ["PBG"],
        "dari": "2025-03-04",
        "sampai": "2025-03-05",
        "nama": "maju",
        "limit": 10,
        "cursor": None,
        "include_total": False,
    }


async def test_an_empty_key_list_in_a_filter_matches_nothing_without_a_call(
    source, service
) -> None:
    page = await source.list_applications(
        ApplicationFilter(statuses=()), PageRequest(first=5)
    )
    assert page.items == [] and not page.has_next
    assert service.requests["POST cari"] == 0


async def test_an_unknown_status_skips_only_that_record(
    source, service, caplog
) -> None:
    service.records[0]["status"] = "DIBEKUKAN"
    with caplog.at_level(logging.WARNING, logger="connectors.licensing"):
        page = await source.list_applications(
            ApplicationFilter(), PageRequest(first=100)
        )
    assert len(page.items) == 30
    assert source.skipped == {"status='DIBEKUKAN'": 1}
    assert "DIBEKUKAN" in caplog.text and "000001" in caplog.text


async def test_a_bad_cursor_is_rejected_by_the_service(source) -> None:
    with pytest.raises(SourceRejected, match="refused the request") as refused:
        await source.list_applications(
            ApplicationFilter(), PageRequest(first=5, after="@@")
        )
    assert "PERMINTAAN_TIDAK_VALID" in refused.value.source_says  # the source's words: for the log only


async def test_a_page_size_above_the_services_limit_is_rejected(
    source, service
) -> None:
    with pytest.raises(SourceRejected, match="page size"):
        await source.list_applications(ApplicationFilter(), PageRequest(first=5000))
    assert service.requests["POST cari"] == 0


async def test_update_status_sends_the_idempotency_key_and_returns_the_record(
    source, service
) -> None:
    number = "503/DPMPTSP/2025/000001-7Q4K"
    first = await source.update_status(
        number,
        ApplicationStatus.DATA_ENTRY,
        note="lengkap",
        actor="petugas-1",
        idempotency_key="key-1",
    )
    again = await source.update_status(
        number,
        ApplicationStatus.DATA_ENTRY,
        note="lengkap",
        actor="petugas-1",
        idempotency_key="key-1",
    )
    assert first == again and first.status is ApplicationStatus.DATA_ENTRY
    assert first.history[-1].note == "lengkap"
    assert service.headers[-1]["Idempotency-Key"] == "key-1"
    assert len(service.find(number)["riwayat"]) == 2  # written once


async def test_update_status_of_a_missing_or_final_application(source) -> None:
    with pytest.raises(RecordNotFound):
        await source.update_status(
            "503/X/1-A", ApplicationStatus.DATA_ENTRY, note=None, actor="a"
        )
    with pytest.raises(SourceRejected, match="refused the request") as refused:
        await source.update_status(
            "503/DPMPTSP/2025/000031-7Q4K",
            ApplicationStatus.DRAFT_DECREE,
            note=None,
            actor="a",
        )
    assert "TRANSISI_TIDAK_VALID" in refused.value.source_says
    assert "TRANSISI" not in refused.value.message


async def test_permit_types_and_health(source) -> None:
    types = await source.permit_types()
    assert [(t.code, t.service_level_days) for t in types] == [("PBG", 20), ("SIP", 5)]
    await source.check()


async def test_the_change_feed_pages_with_the_services_cursor(source, service) -> None:
    first = await source.changes_since(None, limit=20)
    assert len(first.changes) == 20 and first.has_more
    assert first.changes[0].at.tzinfo is not None
    rest = await source.changes_since(first.cursor, limit=20)
    assert len(rest.changes) == 11 and not rest.has_more
    empty = await source.changes_since(rest.cursor, limit=20)
    assert empty.changes == [] and empty.cursor is None


async def test_a_service_outage_is_source_unavailable(source, service) -> None:
    service.down = True
    with pytest.raises(SourceUnavailable, match="503"):
        await source.applications_by_number(["503/DPMPTSP/2025/000001-7Q4K"])


async def test_a_wrong_api_key_is_a_configuration_fault(service) -> None:
    src = RestLicensingSource(
        "http://127.0.0.1:9", api_key="wrong", transport=service.transport()
    )
    try:
        with pytest.raises(SourceUnavailable, match="API key rejected"):
            await src.permit_types()
    finally:
        await src.aclose()


async def test_a_slow_service_is_a_source_timeout(service) -> None:
    service.latency = 0.5
    src = RestLicensingSource(
        "http://127.0.0.1:9",
        api_key=API_KEY,
        timeout=0.05,
        transport=service.transport(),
    )
    try:
        with pytest.raises(SourceTimeout):
            await src.applications_by_number(["503/DPMPTSP/2025/000001-7Q4K"])
    finally:
        await src.aclose()


async def test_one_failing_chunk_fails_the_batch_with_its_connector_error(
    service,
) -> None:
    calls = 0
    inner = service.handle

    async def flaky(request):
        nonlocal calls
        calls += 1
        if calls == 2:
            raise httpx.ConnectError("reset", request=request)
        return await inner(request)

    src = RestLicensingSource(
        "http://127.0.0.1:9", api_key=API_KEY, transport=httpx.MockTransport(flaky)
    )
    try:
        with pytest.raises(SourceUnavailable) as info:
            await src.applications_by_number([f"n{i}" for i in range(2500)])
    finally:
        await src.aclose()
    assert isinstance(info.value.__cause__, httpx.ConnectError)


def test_naive_source_times_are_taken_as_jakarta_time() -> None:
    from connectors._codes import parse_datetime

    assert parse_datetime("2025-03-04T09:12:00") == datetime(
        2025, 3, 4, 2, 12, tzinfo=UTC
    )
