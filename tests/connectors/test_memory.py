"""The in-memory sources: same pages as the SQL backend, workflow, idempotency, counters."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import pytest
from tests.connectors.siak_rows import BAD_NIK, ROWS, VALID_NIKS, load

from connectors._support import WIB
from connectors.errors import RecordNotFound, SourceRejected, SourceUnavailable
from connectors.memory import (
    InMemoryComplaintSource,
    InMemoryLicensingSource,
    InMemoryPopulationSource,
)
from connectors.population.sql import SqlPopulationSource
from connectors.protocols import ComplaintSource, LicensingSource, PopulationSource
from connectors.records import (
    ApplicantKind,
    ApplicationFilter,
    ApplicationRecord,
    ApplicationStatus,
    CitizenFilter,
    ComplaintChannel,
    ComplaintClassification,
    ComplaintFilter,
    ComplaintRecord,
    ComplaintStatus,
    ComplaintVisibility,
    NewComplaint,
    PageRequest,
    PermitType,
    RequestKind,
    Sex,
)

T0 = datetime(2025, 3, 4, 9, 0, tzinfo=WIB)
PBG = PermitType("PBG", "Persetujuan Bangunan Gedung", 20)


def application(i: int, nik: str = "1471084107900001", **changes) -> ApplicationRecord:
    record = ApplicationRecord(
        number=f"503/DPMPTSP/2025/{i:06d}-AB",
        applicant_kind=ApplicantKind.PERSON,
        applicant_nik=nik,
        applicant_name=f"Pemohon {i}",
        company_name=None,
        permit_type=PBG,
        request_kind=RequestKind.NEW,
        received_at=T0 + timedelta(days=i),
        file_complete_at=None,
        kelurahan_code="1471081001",
        business_address=None,
        status=ApplicationStatus.FILE_CHECK,
        source_status="PEMERIKSAAN_BERKAS",
    )
    return dataclasses.replace(record, **changes)


def complaint(i: int, **changes) -> ComplaintRecord:
    record = ComplaintRecord(
        number=f"LPR-2025-{i:06d}",
        title="Jalan rusak",
        content="...",
        classification=ComplaintClassification.COMPLAINT,
        category="Infrastruktur",
        kelurahan_code="1471081005",
        location=None,
        channel=ComplaintChannel.WEBSITE,
        visibility=ComplaintVisibility.PUBLIC,
        reporter_nik="1471085203880002",
        submitted_at=T0 + timedelta(hours=i),
        status=ComplaintStatus.RECEIVED,
        source_status="DITERIMA",
    )
    return dataclasses.replace(record, **changes)


def test_the_fakes_implement_the_protocols() -> None:
    assert isinstance(InMemoryPopulationSource(), PopulationSource)
    assert isinstance(InMemoryLicensingSource(), LicensingSource)
    assert isinstance(InMemoryComplaintSource(), ComplaintSource)


FILTERS = [
    pytest.param(CitizenFilter(), id="all"),
    pytest.param(
        CitizenFilter(kelurahan_codes=("1471081001", "1471121001")), id="kelurahan"
    ),
    pytest.param(CitizenFilter(kelurahan_codes=()), id="no-kelurahan"),
    pytest.param(CitizenFilter(name_contains="SiTi"), id="name"),
    pytest.param(CitizenFilter(name_contains="r_a"), id="underscore"),
    pytest.param(CitizenFilter(sex=Sex.MALE), id="sex"),
    pytest.param(
        CitizenFilter(born_from=date(1983, 7, 15), born_to=date(2010, 10, 20)),
        id="born",
    ),
    pytest.param(CitizenFilter(family_number="1471080101100001"), id="family"),
]


@pytest.fixture
async def clean_sqlite_url(tmp_path) -> str:
    """The sample registry without its unmappable row (the fake holds records only)."""
    path = tmp_path / "clean.db"
    await load(f"sqlite+aiosqlite:///{path}", [r for r in ROWS if r["nik"] != BAD_NIK])
    return f"sqlite:///{path}"


@pytest.mark.parametrize("flt", FILTERS)
async def test_memory_pages_equal_the_sql_pages_for_the_same_data(
    clean_sqlite_url, flt
) -> None:
    sql = SqlPopulationSource(clean_sqlite_url)
    try:
        memory = InMemoryPopulationSource(
            (await sql.citizens_by_nik(VALID_NIKS)).values()
        )
        for first in (1, 2, 5):
            after = None
            while True:
                request = PageRequest(first=first, after=after, with_total=True)
                expected = await sql.list_citizens(flt, request)
                got = await memory.list_citizens(flt, request)
                assert got == expected
                if not got.has_next:
                    break
                after = got.end_cursor
        families = ["1471080101100001", "1471080202200002"]
        assert await memory.families_by_number(
            families
        ) == await sql.families_by_number(families)
        sql_feed, memory_feed = (
            await sql.changes_since(None),
            await memory.changes_since(None),
        )
        assert memory_feed.changes == sql_feed.changes and len(sql_feed.changes) == 6
    finally:
        await sql.aclose()


async def test_memory_counts_calls_so_tests_can_assert_batching() -> None:
    src = InMemoryPopulationSource()
    await src.citizens_by_nik(["1", "2"])
    await src.citizens_by_nik(["3"])
    assert src.calls == {"citizens_by_nik": 2}


async def test_an_injected_failure_is_raised_by_every_call() -> None:
    src = InMemoryLicensingSource([application(1)])
    src.failure = SourceUnavailable("licensing", "down for the test")
    with pytest.raises(SourceUnavailable):
        await src.applications_by_number(["x"])
    src.failure = None
    assert await src.applications_by_number([application(1).number])


async def test_a_bad_cursor_or_page_size_is_rejected_as_by_the_real_backends() -> None:
    src = InMemoryLicensingSource([application(1)])
    with pytest.raises(SourceRejected):
        await src.list_applications(
            ApplicationFilter(), PageRequest(first=5, after="%%")
        )
    with pytest.raises(SourceRejected):
        await src.list_applications(ApplicationFilter(), PageRequest(first=1001))
    with pytest.raises(SourceRejected):
        await InMemoryPopulationSource().list_citizens(
            CitizenFilter(), PageRequest(1, after="eA")
        )


async def test_memory_licensing_lists_newest_first_with_keyset_cursors() -> None:
    src = InMemoryLicensingSource(
        [application(i, nik=str(i % 2) * 16) for i in range(1, 8)]
    )
    seen, after = [], None
    while True:
        page = await src.list_applications(
            ApplicationFilter(), PageRequest(3, after, True)
        )
        assert page.total == 7
        seen.extend(a.number for a in page.items)
        if not page.has_next:
            break
        after = page.end_cursor
    assert seen == [application(i).number for i in range(7, 0, -1)]
    grouped = await src.applications_by_applicant(["1" * 16])
    assert [a.number for a in grouped["1" * 16]] == [
        application(i).number for i in (7, 5, 3, 1)
    ]
    assert [t.code for t in await src.permit_types()] == ["PBG"]


async def test_memory_licensing_follows_the_workflow_and_idempotency_keys() -> None:
    src = InMemoryLicensingSource(
        [application(1)], clock=lambda: T0 + timedelta(days=40)
    )
    number = application(1).number
    updated = await src.update_status(
        number,
        ApplicationStatus.DATA_ENTRY,
        note="lengkap",
        actor="p",
        idempotency_key="k",
    )
    assert updated.history[-1].source_status == "ENTRY_DATA"
    assert (
        await src.update_status(
            number,
            ApplicationStatus.DATA_ENTRY,
            note="lengkap",
            actor="p",
            idempotency_key="k",
        )
        is updated
    )
    with pytest.raises(SourceRejected, match="refused the request") as refused:
        await src.update_status(number, ApplicationStatus.ISSUED, note=None, actor="p")
    assert "TRANSISI_TIDAK_VALID" in refused.value.source_says and "TRANSISI" not in refused.value.message
    with pytest.raises(RecordNotFound):
        await src.update_status(
            "nope", ApplicationStatus.CANCELLED, note=None, actor="p"
        )
    cancelled = await src.update_status(
        number, ApplicationStatus.CANCELLED, note=None, actor="p"
    )
    assert cancelled.finished_at == T0 + timedelta(days=40)
    feed = await src.changes_since(None, limit=10)
    assert [c.key for c in feed.changes] == [number] * 3 and not feed.has_more
    assert (await src.changes_since(feed.cursor)).changes == []


async def test_memory_complaints_submit_filter_and_update() -> None:
    src = InMemoryComplaintSource(
        [complaint(1), complaint(2, visibility=ComplaintVisibility.CONFIDENTIAL)]
    )
    new = NewComplaint(
        "Sampah",
        "Tidak diangkut",
        ComplaintClassification.COMPLAINT,
        "Kebersihan",
        "1471081002",
    )
    created = await src.submit(new, idempotency_key="x")
    assert await src.submit(new, idempotency_key="x") is created
    assert created.status is ComplaintStatus.RECEIVED and created.number.startswith(
        "LPR-"
    )
    with pytest.raises(SourceRejected, match="refused the request") as refused:
        await src.submit(dataclasses.replace(new, kelurahan_code="14"))
    assert "10 digits" in refused.value.source_says and "PERMINTAAN" not in refused.value.message
    confidential = await src.list_complaints(
        ComplaintFilter(visibilities=(ComplaintVisibility.CONFIDENTIAL,)),
        PageRequest(10),
    )
    assert [c.number for c in confidential.items] == [complaint(2).number]
    verified = await src.update_status(
        complaint(1).number, ComplaintStatus.VERIFIED, note=None, actor="p"
    )
    assert verified.status is ComplaintStatus.VERIFIED
    with pytest.raises(SourceRejected):
        await src.update_status(
            complaint(1).number, ComplaintStatus.RECEIVED, note=None, actor="p"
        )
    assert await src.categories() == ["Infrastruktur"]
    assert src.calls["submit"] == 3
