"""The SQL population backend against SQLite and PostgreSQL databases built by the tests."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import date, timedelta

import pytest
from tests.connectors.siak_rows import BAD_NIK, ROWS, VALID_NIKS
from sqlalchemy import event

from connectors.errors import SourceRejected, SourceTimeout, SourceUnavailable
from connectors.population.mapping import PopulationMapping
from connectors.population.sql import SqlPopulationSource
from connectors.records import (
    CitizenFilter,
    FamilyRelationship,
    MaritalStatus,
    PageRequest,
    Religion,
    Sex,
)


@pytest.fixture
async def source(database_url: str):
    src = SqlPopulationSource(database_url, timeout=5.0)
    yield src
    await src.aclose()


async def all_pages(src, flt: CitizenFilter, first: int) -> list[list[str]]:
    pages, after = [], None
    while True:
        page = await src.list_citizens(flt, PageRequest(first=first, after=after))
        pages.append([c.nik for c in page.items])
        if not page.has_next:
            return pages
        after = page.end_cursor


async def test_citizens_by_nik_maps_every_field(source) -> None:
    found = await source.citizens_by_nik(
        ["1471085507830002", "1471080506700005", "9" * 16]
    )
    assert set(found) == {"1471085507830002", "1471080506700005"}
    siti = found["1471085507830002"]
    assert siti.full_name == "Siti Rahmawati"
    assert siti.sex is Sex.FEMALE
    assert siti.blood_type is None  # GOL_DRH 13, TIDAK TAHU
    assert siti.religion is Religion.ISLAM
    assert siti.family_relationship is FamilyRelationship.WIFE
    assert siti.occupation == "Mengurus Rumah Tangga"
    assert siti.education == "SLTA/Sederajat"
    assert siti.birth_date == date(1983, 7, 15)
    assert siti.kelurahan_code == "1471081001"
    assert (siti.rt, siti.rw) == ("004", "012")
    assert siti.updated_at is not None and siti.updated_at.utcoffset() == timedelta(
        hours=7
    )
    budi = found["1471080506700005"]
    assert budi.religion is Religion.KRISTEN
    assert budi.marital_status is MaritalStatus.WIDOWED
    assert budi.disability == "Tunadaksa"
    assert budi.blood_type == "O+"


async def test_a_row_with_an_unknown_code_is_skipped_counted_and_logged(
    source, caplog
) -> None:
    with caplog.at_level(logging.WARNING, logger="connectors.population"):
        found = await source.citizens_by_nik([BAD_NIK, "1471081203800001"])
    assert list(found) == ["1471081203800001"]
    assert source.skipped == {"AGAMA=9": 1}
    assert (
        "AGAMA=9" in caplog.text and BAD_NIK not in caplog.text
    )  # NIK shortened in logs


async def test_family_lists_head_first_then_relationship_and_birth_date(source) -> None:
    families = await source.families_by_number(
        ["1471080101100001", "1471080202200002", "0" * 16]
    )
    assert [c.full_name for c in families["1471080101100001"]] == [
        "Ahmad Fauzi",
        "Siti Rahmawati",
        "Rizky Fauzi",
        "Nur_Aini Fauzi",
    ]
    assert [c.full_name for c in families["1471080202200002"]] == [
        "Budi Santoso",
        "Yohanes Santoso",
    ]
    assert "0" * 16 not in families


async def test_listing_pages_through_every_citizen_by_nik_without_gaps(source) -> None:
    pages = await all_pages(source, CitizenFilter(), first=3)
    assert [nik for page in pages for nik in page] == VALID_NIKS
    assert [len(p) for p in pages] == [
        2,
        3,
        2,
    ]  # the first page's unmappable row is left out


async def test_listing_reports_the_total_when_asked(source) -> None:
    everyone = await source.list_citizens(
        CitizenFilter(), PageRequest(first=1, with_total=True)
    )
    assert everyone.total == len(ROWS)  # the source's count: unmappable rows included
    flt = CitizenFilter(kelurahan_codes=("1471081001",))
    page = await source.list_citizens(flt, PageRequest(first=2, with_total=True))
    assert page.total == 4
    assert page.has_next and len(page.items) == 2
    no_total = await source.list_citizens(CitizenFilter(), PageRequest(first=2))
    assert no_total.total is None


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        pytest.param(
            CitizenFilter(kelurahan_codes=("1471081002",)),
            ["1471080506700005", "1471081111950006"],
            id="kelurahan",
        ),
        pytest.param(CitizenFilter(kelurahan_codes=()), [], id="no-kelurahan"),
        pytest.param(
            CitizenFilter(name_contains="SITI"),
            ["1471085507830002", "1471214408900007"],
            id="name-case-insensitive",
        ),
        pytest.param(
            CitizenFilter(name_contains="r_a"),
            ["1471084505150004"],
            id="underscore-is-literal",
        ),
        pytest.param(CitizenFilter(name_contains="%"), [], id="percent-is-literal"),
        pytest.param(
            CitizenFilter(family_number="1471080202200002"),
            ["1471080506700005", "1471081111950006"],
            id="family",
        ),
        pytest.param(
            CitizenFilter(sex=Sex.FEMALE, kelurahan_codes=("1471081001",)),
            ["1471084505150004", "1471085507830002"],
            id="sex-and-kelurahan",
        ),
        pytest.param(
            CitizenFilter(born_from=date(1990, 8, 4), born_to=date(2010, 10, 20)),
            ["1471081111950006", "1471082010100003", "1471214408900007"],
            id="birth-range-inclusive",
        ),
    ],
)
async def test_listing_filters(source, flt: CitizenFilter, expected: list[str]) -> None:
    page = await source.list_citizens(flt, PageRequest(first=50))
    assert [c.nik for c in page.items] == expected
    assert not page.has_next


@pytest.mark.parametrize("cursor", ["not base64 !", "YWJj", "", "x" * 500])
async def test_a_bad_cursor_is_rejected(source, cursor: str) -> None:
    with pytest.raises(SourceRejected) as info:
        await source.list_citizens(CitizenFilter(), PageRequest(first=2, after=cursor))
    assert info.value.code == "BAD_USER_INPUT"


async def test_a_malformed_kelurahan_code_or_page_size_is_rejected(source) -> None:
    with pytest.raises(SourceRejected, match="10 digits"):
        await source.list_citizens(
            CitizenFilter(kelurahan_codes=("14710810",)), PageRequest(5)
        )
    with pytest.raises(SourceRejected, match="page size"):
        await source.list_citizens(CitizenFilter(), PageRequest(first=-1))


async def test_change_feed_walks_every_dated_row_in_time_order(source) -> None:
    seen, cursor = [], None
    while True:
        batch = await source.changes_since(cursor, limit=2)
        seen.extend(batch.changes)
        if not batch.has_more:
            break
        cursor = batch.cursor
    dated = sorted(
        (r["updated_at"], r["nik"]) for r in ROWS if r["updated_at"] is not None
    )
    assert [c.key for c in seen] == [nik for _, nik in dated]
    assert all(c.at.tzinfo is not None for c in seen)
    again = await source.changes_since(batch.cursor, limit=10)
    assert again.changes == [] and again.cursor is None and not again.has_more


async def test_concurrent_calls_each_get_their_own_connection(
    database_url: str,
) -> None:
    src = SqlPopulationSource(database_url, pool_size=2)
    try:
        results = await asyncio.gather(
            *(src.citizens_by_nik([nik]) for nik in VALID_NIKS * 3),
            *(
                src.list_citizens(CitizenFilter(), PageRequest(first=3))
                for _ in range(5)
            ),
        )
    finally:
        await src.aclose()
    assert [list(r) for r in results[: len(VALID_NIKS)]] == [
        [nik] for nik in VALID_NIKS
    ]


async def test_check_succeeds_on_a_reachable_database(source) -> None:
    await source.check()


async def test_a_call_slower_than_the_timeout_is_a_source_timeout(
    database_url: str,
) -> None:
    slow = PopulationMapping(table="SLOW_BIODATA")  # a view that answers in seconds
    src = SqlPopulationSource(database_url, mapping=slow, timeout=0.2)
    started = time.perf_counter()
    try:
        with pytest.raises(SourceTimeout) as info:
            await src.citizens_by_nik(VALID_NIKS)
        elapsed = time.perf_counter() - started
    finally:
        await src.aclose()
    assert elapsed < 1.0, f"the timeout took {elapsed:.2f} s"
    assert (
        info.value.source == "population" and info.value.operation == "citizens_by_nik"
    )
    assert isinstance(info.value.__cause__, TimeoutError)


async def test_a_missing_sqlite_file_is_source_unavailable(tmp_path) -> None:
    src = SqlPopulationSource(f"sqlite:///{tmp_path / 'absent.db'}")
    try:
        with pytest.raises(SourceUnavailable) as info:
            await src.check()
        # aiosqlite stops the worker thread of a failed connect asynchronously; let it
        # finish before this test's event loop closes.
        await asyncio.sleep(0.05)
    finally:
        await src.aclose()
    assert info.value.__cause__ is not None
    assert not (tmp_path / "absent.db").exists()  # read-only: nothing created


@pytest.mark.postgres
async def test_an_unreachable_postgres_server_is_source_unavailable() -> None:
    src = SqlPopulationSource("postgresql://postgres@127.0.0.1:1/none", timeout=2.0)
    try:
        with pytest.raises(SourceUnavailable):
            await src.citizens_by_nik(["1471081203800001"])
    finally:
        await src.aclose()


@pytest.mark.postgres
async def test_a_missing_postgres_database_is_source_unavailable() -> None:
    src = SqlPopulationSource("postgresql://postgres@127.0.0.1:5432/no_such_db_x1")
    try:
        with pytest.raises(SourceUnavailable, match="database error"):
            await src.check()
    finally:
        await src.aclose()


async def test_a_mapping_naming_a_missing_table_fails_check(database_url: str) -> None:
    src = SqlPopulationSource(
        database_url, mapping=PopulationMapping(table="NO_SUCH_TABLE")
    )
    try:
        with pytest.raises(SourceUnavailable):
            await src.check()
    finally:
        await src.aclose()


async def test_large_batches_are_split_into_in_chunks_on_sqlite(
    sqlite_url: str,
) -> None:
    src = SqlPopulationSource(sqlite_url)
    statements: list[str] = []
    event.listen(
        src._engine.sync_engine,
        "before_cursor_execute",
        lambda conn, cursor, stmt, params, context, many: statements.append(stmt),
    )
    keys = [f"{n:016d}" for n in range(1200)] + VALID_NIKS
    try:
        found = await src.citizens_by_nik(keys)
    finally:
        await src.aclose()
    assert sorted(found) == VALID_NIKS
    assert len([s for s in statements if "IN" in s]) == 3  # 1,207 keys / 500


@pytest.mark.postgres
async def test_postgres_looks_up_any_number_of_keys_in_one_query(
    postgres_url: str,
) -> None:
    src = SqlPopulationSource(postgres_url)
    statements: list[str] = []
    event.listen(
        src._engine.sync_engine,
        "before_cursor_execute",
        lambda conn, cursor, stmt, params, context, many: statements.append(stmt),
    )
    keys = [f"{n:016d}" for n in range(5000)] + VALID_NIKS
    try:
        found = await src.citizens_by_nik(keys)
    finally:
        await src.aclose()
    assert sorted(found) == VALID_NIKS
    assert len([s for s in statements if "ANY" in s]) == 1
