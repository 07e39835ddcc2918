"""Appending to the access ledger and reading it back, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import MetaData, event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from auth.ledger import (
    GENESIS_HASH,
    InvalidLedgerDraft,
    InvalidLedgerQuery,
    LedgerUnavailable,
    append,
    entry_hash,
    query_entries,
    register_tables,
    verify,
)
from auth.ledger.model import LedgerDraft
from auth.ledger.store import check_drafts
from auth.ledger.tables import ledger_entries, ledger_head, ledger_metadata
from auth.ledger.testing import create_ledger_tables, sample_draft
from tests.support.pg_database import postgres_database

ROOT = Path(__file__).resolve().parents[2]

EngineFactory = Callable[[], AsyncEngine]


@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    """One throwaway PostgreSQL database per module; tests reset the tables."""
    with postgres_database("ledger_test") as url:
        yield url


async def drop_ledger_tables(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(ledger_metadata.drop_all)
    await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    url: str = request.getfixturevalue("pg_database")
    return url


@pytest.fixture
async def engine_factory(database_url: str) -> AsyncIterator[EngineFactory]:
    if database_url.startswith("postgresql"):
        await drop_ledger_tables(database_url)
    engines: list[AsyncEngine] = []

    def make() -> AsyncEngine:
        engines.append(create_async_engine(database_url))
        return engines[-1]

    yield make
    for engine in engines:
        await engine.dispose()


@pytest.fixture
async def ledger(engine_factory: EngineFactory) -> AsyncEngine:
    engine = engine_factory()
    await create_ledger_tables(engine)
    return engine


def fixed_clock(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


async def count_entries(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(
            await conn.scalar(select(func.count()).select_from(ledger_entries)) or 0
        )


# --- writing -------------------------------------------------------------------------


async def test_first_request_starts_the_chain_at_seq_one_from_genesis(
    ledger: AsyncEngine,
) -> None:
    entries = await append(
        ledger, [sample_draft(record_key=f"147108010190000{i}") for i in range(3)]
    )

    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == GENESIS_HASH
    assert [e.prev_hash for e in entries[1:]] == [e.entry_hash for e in entries[:-1]]
    assert all(e.entry_hash == entry_hash(e) for e in entries)


async def test_next_request_continues_from_the_head(ledger: AsyncEngine) -> None:
    first = await append(ledger, [sample_draft()])
    second = await append(
        ledger,
        [sample_draft(request_id="req-0002"), sample_draft(request_id="req-0002")],
    )

    assert [e.seq for e in second] == [2, 3]
    assert second[0].prev_hash == first[-1].entry_hash


async def test_stored_entries_read_back_exactly_as_returned(
    ledger: AsyncEngine,
) -> None:
    written = await append(
        ledger,
        [
            sample_draft(),
            sample_draft(
                record_type="Application",
                record_key="SC-2024-000123",
                action="write",
                detail="status PEMERIKSAAN_BERKAS -> ENTRY_DATA — diperiksa",
                client_id="dashboard",
                case="SC-2024-000123",
                fields=("status",),
            ),
        ],
    )

    read = await query_entries(ledger, newest_first=False)

    assert read == written


async def test_times_are_stored_in_utc_with_microseconds(ledger: AsyncEngine) -> None:
    jakarta = timezone(timedelta(hours=7))
    moment = datetime(2025, 3, 4, 9, 15, 30, 123456, tzinfo=jakarta)

    [entry] = await append(ledger, [sample_draft()], clock=fixed_clock(moment))
    [stored] = await query_entries(ledger)

    assert entry.time == stored.time == moment
    assert (
        stored.time.tzinfo == UTC
        and stored.time.hour == 2
        and stored.time.microsecond == 123456
    )


async def test_roles_and_fields_are_stored_sorted_without_duplicates(
    ledger: AsyncEngine,
) -> None:
    [entry] = await append(
        ledger,
        [
            sample_draft(
                roles=frozenset({"kelurahan_officer", "citizen"}),
                fields=["nik", "name", "nik"],
                masked_fields={"nik"},
            )
        ],
    )

    assert entry.roles == ("citizen", "kelurahan_officer")
    assert entry.fields == ("name", "nik")
    assert entry.masked_fields == ("nik",)


async def test_an_empty_request_writes_nothing(ledger: AsyncEngine) -> None:
    assert await append(ledger, []) == []
    assert await count_entries(ledger) == 0


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"time": datetime(2025, 1, 1)}, id="naive-time"),
        pytest.param({"action": "delete"}, id="unknown-action"),
        pytest.param({"masked_fields": ("religion",)}, id="masked-field-not-returned"),
        pytest.param({"record_key": ""}, id="empty-record-key"),
        pytest.param({"roles": "population_officer"}, id="roles-as-a-string"),
        pytest.param({"fields": ("name", 3)}, id="non-string-field"),
        pytest.param({"purpose": "x" * 65}, id="purpose-too-long"),
    ],
)
async def test_malformed_drafts_are_refused_and_nothing_is_written(
    ledger: AsyncEngine, overrides: dict[str, object]
) -> None:
    with pytest.raises(InvalidLedgerDraft) as caught:
        await append(ledger, [sample_draft(), sample_draft(**overrides)])

    assert isinstance(caught.value, LedgerUnavailable)
    assert caught.value.code == "INTERNAL"
    assert await count_entries(ledger) == 0


async def test_a_store_failing_mid_transaction_raises_ledger_unavailable_and_writes_nothing(
    ledger: AsyncEngine,
) -> None:
    await append(ledger, [sample_draft()])

    def fail_on_head_update(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("UPDATE LEDGER_HEAD"):
            raise RuntimeError("disk full")

    event.listen(ledger.sync_engine, "before_cursor_execute", fail_on_head_update)
    try:
        with pytest.raises(LedgerUnavailable) as caught:
            await append(ledger, [sample_draft(request_id="req-lost")] * 3)
    finally:
        event.remove(ledger.sync_engine, "before_cursor_execute", fail_on_head_update)

    assert caught.value.reason == "LEDGER_UNAVAILABLE"
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert await count_entries(ledger) == 1
    [after] = await append(ledger, [sample_draft(request_id="req-next")])
    assert after.seq == 2
    assert (await verify(ledger)).ok


async def test_a_store_without_ledger_tables_raises_ledger_unavailable(
    engine_factory: EngineFactory,
) -> None:
    with pytest.raises(LedgerUnavailable):
        await append(engine_factory(), [sample_draft()])


async def test_an_unreachable_store_raises_ledger_unavailable(tmp_path: Path) -> None:
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'missing-dir' / 'hub.db'}"
    )
    try:
        with pytest.raises(LedgerUnavailable):
            await append(engine, [sample_draft()])
    finally:
        await engine.dispose()
        await aiosqlite_threads_stopped()


async def aiosqlite_threads_stopped() -> None:
    """aiosqlite stops the thread of a failed connect without awaiting it; let it finish
    before the test's loop closes (else the thread calls into a closed loop)."""
    for _ in range(200):
        if not any(
            "_connection_worker_thread" in t.name for t in threading.enumerate()
        ):
            return
        await asyncio.sleep(0.01)


# --- concurrency ---------------------------------------------------------------------


def assert_unbroken(entries: list[list]) -> None:  # type: ignore[type-arg]
    seqs = sorted(e.seq for request in entries for e in request)
    assert seqs == list(range(1, len(seqs) + 1))
    for request in entries:  # a request's entries are contiguous
        assert [e.seq for e in request] == list(
            range(request[0].seq, request[0].seq + len(request))
        )


async def test_two_hundred_concurrent_requests_leave_one_unbroken_chain(
    ledger: AsyncEngine,
) -> None:
    results = await asyncio.gather(
        *(
            append(ledger, [sample_draft(request_id=f"req-{i}")] * (1 + i % 3))
            for i in range(200)
        )
    )

    assert_unbroken(results)
    verdict = await verify(ledger)
    assert verdict.ok, verdict.detail
    assert verdict.entries == sum(1 + i % 3 for i in range(200))


async def test_two_hub_instances_appending_at_once_leave_one_unbroken_chain(
    ledger: AsyncEngine, engine_factory: EngineFactory
) -> None:
    other_instance = engine_factory()

    results = await asyncio.gather(
        *(
            append(
                ledger if i % 2 else other_instance,
                [sample_draft(request_id=f"req-{i}")] * 2,
            )
            for i in range(200)
        )
    )

    assert_unbroken(results)
    assert (await verify(other_instance)).entries == 400


APPENDER = """
import asyncio, sys
from sqlalchemy.ext.asyncio import create_async_engine
from auth.ledger import append
from auth.ledger.testing import sample_draft

async def main(url, name):
    engine = create_async_engine(url)
    await asyncio.gather(*(append(engine, [sample_draft(request_id=f"{name}-{i}")] * 2) for i in range(50)))
    await engine.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_separate_processes_appending_at_once_leave_one_unbroken_chain(
    ledger: AsyncEngine, database_url: str
) -> None:
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", APPENDER, database_url, f"p{n}", cwd=ROOT
        )
        for n in range(3)
    ]
    assert [await p.wait() for p in processes] == [0, 0, 0]

    verdict = await verify(ledger)
    assert verdict.ok, verdict.detail
    assert verdict.entries == 300
    by_request = {}
    for entry in await query_entries(ledger, limit=1000, newest_first=False):
        by_request.setdefault(entry.request_id, []).append(entry)
    assert len(by_request) == 150
    assert_unbroken(list(by_request.values()))


# --- tables --------------------------------------------------------------------------


def test_tables_can_join_the_hub_stores_metadata() -> None:
    hub_metadata = MetaData()

    tables = register_tables(hub_metadata)

    assert {t.name for t in tables} == {
        "ledger_entries",
        "ledger_head",
        "ledger_checkpoints",
    }
    assert register_tables(hub_metadata) == tables
    assert {i.name for i in hub_metadata.tables["ledger_entries"].indexes} >= {
        "ix_ledger_entries_record_key_seq"
    }


async def test_head_row_records_the_last_seq_and_hash(ledger: AsyncEngine) -> None:
    entries = await append(ledger, [sample_draft()] * 4)

    async with ledger.connect() as conn:
        head = (await conn.execute(select(ledger_head))).one()

    assert (head.seq, head.entry_hash) == (4, entries[-1].entry_hash)


# --- reading -------------------------------------------------------------------------


@pytest.fixture
async def history(ledger: AsyncEngine) -> AsyncEngine:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for day in range(10):
        await append(
            ledger,
            [
                sample_draft(
                    request_id=f"req-{day}",
                    subject=f"officer-{day % 2}",
                    purpose="population-service" if day < 5 else "permit-verification",
                    record_key=f"14710801019000{day % 3:02d}",
                    record_type="Citizen" if day % 4 else "Application",
                )
            ],
            clock=fixed_clock(start + timedelta(days=day)),
        )
    return ledger


@pytest.mark.parametrize(
    ("filters", "expected_seqs"),
    [
        pytest.param({}, [10, 9, 8, 7, 6, 5, 4, 3, 2, 1], id="all-newest-first"),
        pytest.param({"record_key": "1471080101900001"}, [8, 5, 2], id="by-nik"),
        pytest.param({"subject": "officer-1"}, [10, 8, 6, 4, 2], id="by-officer"),
        pytest.param(
            {"purpose": "permit-verification"}, [10, 9, 8, 7, 6], id="by-purpose"
        ),
        pytest.param({"record_type": "Application"}, [9, 5, 1], id="by-record-type"),
        pytest.param(
            {
                "since": datetime(2025, 1, 3, tzinfo=UTC),
                "until": datetime(2025, 1, 5, tzinfo=UTC),
            },
            [4, 3],
            id="by-time",
        ),
        pytest.param(
            {"subject": "officer-0", "record_key": "1471080101900000"},
            [7, 1],
            id="combined",
        ),
        pytest.param({"limit": 3, "after_seq": 8}, [7, 6, 5], id="page-newest-first"),
        pytest.param(
            {"limit": 3, "after_seq": 8, "newest_first": False},
            [9, 10],
            id="page-oldest-first",
        ),
    ],
)
async def test_queries_return_only_matching_entries_in_order(
    history: AsyncEngine, filters: dict[str, object], expected_seqs: list[int]
) -> None:
    entries = await query_entries(history, **filters)  # type: ignore[arg-type]

    assert [e.seq for e in entries] == expected_seqs


@pytest.mark.parametrize(
    "filters",
    [
        pytest.param({"limit": 0}, id="zero-limit"),
        pytest.param({"limit": 100_000}, id="huge-limit"),
        pytest.param({"after_seq": -1}, id="negative-cursor"),
        pytest.param({"since": datetime(2025, 1, 1)}, id="naive-since"),
    ],
)
async def test_bad_query_arguments_are_bad_user_input(
    ledger: AsyncEngine, filters: dict[str, object]
) -> None:
    with pytest.raises(InvalidLedgerQuery) as caught:
        await query_entries(ledger, **filters)  # type: ignore[arg-type]

    assert caught.value.code == "BAD_USER_INPUT"


async def test_citizen_lookup_by_nik_uses_the_record_key_index(
    history: AsyncEngine,
) -> None:
    if history.dialect.name != "sqlite":
        pytest.skip("query plans differ; the index exists on both")
    stmt = (
        select(ledger_entries.c.seq)
        .where(ledger_entries.c.record_key == "x")
        .order_by(ledger_entries.c.seq.desc())
    )
    compiled = stmt.compile(history.sync_engine, compile_kwargs={"literal_binds": True})

    async with history.connect() as conn:
        plan = " ".join(
            str(row[-1])
            for row in await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")
        )

    assert "ix_ledger_entries_record_key_seq" in plan
    assert "TEMP B-TREE" not in plan


def _page_of_drafts(count: int, **shared: object) -> list[LedgerDraft]:
    """Drafts as a request makes them: every request-level value and collection the same
    object, only the record differing."""
    base = sample_draft(**shared)
    return [dataclasses.replace(base, record_key=f"{1471080101000000 + i}") for i in range(count)]


@pytest.mark.parametrize(
    "own",
    [
        pytest.param({"record_key": ""}, id="empty-record-key"),
        pytest.param({"record_type": 7}, id="record-type-not-a-string"),
        pytest.param({"action": "erase"}, id="unknown-action"),
        pytest.param({"time": datetime(2025, 1, 1)}, id="naive-time"),
        pytest.param({"record_key": "1" * 65}, id="record-key-too-long"),
        pytest.param({"subject": "y" * 1_000}, id="another-subject-too-long"),
    ],
)
def test_a_bad_draft_amid_a_page_sharing_its_request_values_is_refused(own: dict[str, object]) -> None:
    drafts = _page_of_drafts(500)
    drafts[321] = dataclasses.replace(drafts[321], **own)

    with pytest.raises(InvalidLedgerDraft):
        check_drafts(drafts)


def test_a_page_sharing_unsorted_collections_gets_them_sorted_on_every_draft() -> None:
    drafts = _page_of_drafts(300, roles=["population_officer", "auditor"], fields=["nik", "address", "nik"],
                             masked_fields={"nik"})

    checked = check_drafts(drafts)

    assert [d.record_key for d in checked] == [d.record_key for d in drafts]
    assert {(d.roles, d.fields, d.masked_fields) for d in checked} == {
        (("auditor", "population_officer"), ("address", "nik"), ("nik",))
    }
    sorted_page = _page_of_drafts(3)
    assert all(a is b for a, b in zip(check_drafts(sorted_page), sorted_page, strict=True))  # already sorted: as given
