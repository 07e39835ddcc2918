"""Group commit: concurrent requests share ledger transactions without losing their own entries.

Every writer test runs on both of the writer's paths on SQLite: the dedicated-thread connection
(the default for a SQLite file) and the async engine (what PostgreSQL uses)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.schema import CreateTable

from auth.ledger import (
    InvalidLedgerDraft,
    LedgerUnavailable,
    LedgerWriter,
    append,
    query_entries,
    verify,
)
from auth.ledger.model import ENTRY_COLUMNS, GENESIS_HASH
from auth.ledger.sqlite_checkpoint import (
    BACKSTOP_PAGES,
    EVERY_ENTRIES,
    BackgroundCheckpoints,
)
from auth.ledger.sqlite_thread import (
    ROWS_PER_INSERT,
    SHORT_RUN,
    InsertSizes,
    SqliteThreadAppender,
    _insert_entries,
    sqlite_file,
)
from auth.ledger.store import chain, check_drafts, utc_now
from auth.ledger.tables import ledger_entries
from auth.ledger.testing import create_ledger_tables, sample_draft


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    await create_ledger_tables(engine)
    yield engine
    await engine.dispose()


@pytest.fixture(params=["sqlite-thread", "engine"])
async def writer(request: pytest.FixtureRequest, ledger: AsyncEngine) -> AsyncIterator[LedgerWriter]:
    made = LedgerWriter(ledger, engine_only=request.param == "engine")
    yield made
    await made.aclose()


async def test_concurrent_requests_share_commits_and_each_gets_its_own_entries(
    ledger: AsyncEngine, writer: LedgerWriter
) -> None:
    results = await asyncio.gather(
        *(
            writer.append([sample_draft(request_id=f"req-{i}")] * (1 + i % 2))
            for i in range(200)
        )
    )

    assert writer.transactions < 50
    for i, entries in enumerate(results):
        assert {e.request_id for e in entries} == {f"req-{i}"}
        assert [e.seq for e in entries] == list(
            range(entries[0].seq, entries[0].seq + 1 + i % 2)
        )
    verdict = await verify(ledger)
    assert verdict.ok and verdict.entries == 300


async def test_a_writer_and_direct_appends_keep_one_chain(ledger: AsyncEngine, writer: LedgerWriter) -> None:
    await asyncio.gather(
        *(
            writer.append([sample_draft()])
            if i % 2
            else append(ledger, [sample_draft()])
            for i in range(60)
        )
    )

    assert (await verify(ledger)).entries == 60


async def test_a_head_moved_by_another_writer_between_commits_is_followed(
    ledger: AsyncEngine, writer: LedgerWriter
) -> None:
    """The thread path chains a request after the head its last commit left; when
    another writer moved the head meanwhile, the entries are chained again after it."""
    first = await writer.append([sample_draft(request_id="a")])
    other = await append(ledger, [sample_draft(request_id="b")] * 2)
    last = await writer.append([sample_draft(request_id="c")] * 3)

    assert [e.seq for e in (*first, *other, *last)] == [1, 2, 3, 4, 5, 6]
    assert last[0].prev_hash == other[-1].entry_hash
    verdict = await verify(ledger)
    assert verdict.ok and verdict.entries == 6


@pytest.mark.parametrize("count", [1, 3, 129, 1000, 2100])
async def test_large_requests_are_stored_row_for_row(ledger: AsyncEngine, writer: LedgerWriter, count: int) -> None:
    """Rows go in with multi-row INSERTs of several sizes; every entry must land once, in order."""
    await writer.append([sample_draft(request_id="before")])
    drafts = [sample_draft(record_key=f"{1471080101000000 + i}", request_id="big") for i in range(count)]

    written = await writer.append(drafts)

    read: list[object] = []
    for _ in range(count // 1000 + 1):  # pages of at most 1,000
        read += await query_entries(ledger, limit=1000, newest_first=False, after_seq=len(read) or None)
    assert read[1:] == written and [e.record_key for e in written] == [d.record_key for d in drafts]
    verdict = await verify(ledger)
    assert verdict.ok and verdict.entries == count + 1


async def test_entries_that_differ_beyond_their_own_columns_are_stored_as_they_are(
    ledger: AsyncEngine, writer: LedgerWriter
) -> None:
    """The thread binds a run's shared values once per statement; drafts of one batch that
    differ in any of them (another purpose, fields, mask, action, time, a null) start a new
    run, and every row reads back exactly as it was chained."""
    t = utc_now()
    variants = [
        {},
        {"purpose": "permit-verification", "case": "503/DPMPTSP/2026/000001"},
        {"fields": ("address", "name", "nik"), "masked_fields": ("nik",)},
        {"action": "write", "detail": "VERIFIED", "department": None, "operation_name": None},
        {"time": t.replace(year=t.year - 1)},
        {"roles": ("auditor", "population_officer"), "client_id": "svc-1"},
    ]
    drafts = [sample_draft(record_key=f"{1471080101000000 + i}", **variants[(i // 2) % len(variants)])
              for i in range(40)]  # runs of two, then the variants again

    written = await writer.append(drafts)

    read = await query_entries(ledger, limit=100, newest_first=False)
    assert read == written
    assert [(e.purpose, e.fields, e.action) for e in read[:4]] == [
        ("population-service", ("name", "nik"), "read")] * 2 + [("permit-verification", ("name", "nik"), "read")] * 2
    verdict = await verify(ledger)
    assert verdict.ok and verdict.entries == 40


def _plain_ledger(tmp_path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(tmp_path / "plain.db")
    connection.execute(str(CreateTable(ledger_entries).compile(dialect=sqlite_dialect())))
    return connection


def _stored_rows(connection: sqlite3.Connection) -> list[tuple[object, ...]]:
    return connection.execute("SELECT seq, record_key, purpose, entry_hash FROM ledger_entries ORDER BY rowid").fetchall()


@pytest.mark.parametrize("count", [3, 11, 40])
def test_the_thread_inserts_within_sqlites_limit_on_variables(tmp_path: Path, count: int) -> None:
    """Where SQLite allows fewer variables than `ROWS_PER_INSERT` rows need (999 before
    3.32), statements carry fewer rows, and every row still lands once, in order: runs
    (a request's shared values once, four per row) and full rows alike."""
    connection = _plain_ledger(tmp_path)
    assert InsertSizes.of(connection) == InsertSizes(run=ROWS_PER_INSERT, full=ROWS_PER_INSERT)
    connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, len(ENTRY_COLUMNS) - 4 + 5 * 4)
    sizes = InsertSizes.of(connection)
    assert sizes == InsertSizes(run=4, full=1)
    drafts = check_drafts([sample_draft(record_key=f"{1471080101000000 + i}") for i in range(count)])
    entries = chain(drafts, head_seq=0, head_hash=GENESIS_HASH, now=utc_now())

    _insert_entries(connection, entries, sizes)

    assert _stored_rows(connection) == [(e.seq, e.record_key, e.purpose, e.entry_hash) for e in entries]
    connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, len(ENTRY_COLUMNS) - 1)
    with pytest.raises(sqlite3.OperationalError):
        InsertSizes.of(connection)
    connection.close()


def test_a_group_of_short_requests_goes_in_as_full_rows_in_few_statements(tmp_path: Path) -> None:
    """A group commit of one-record requests (runs shorter than `SHORT_RUN`) is not one
    statement per request: their rows go in together; a long run beside them as a run."""
    connection = _plain_ledger(tmp_path)
    statements: list[str] = []
    connection.set_trace_callback(statements.append)
    drafts = [sample_draft(request_id=f"r{i}", record_key=f"{1471080101000000 + i}") for i in range(20)]
    drafts += [sample_draft(request_id="page", record_key=f"{1471080102000000 + i}") for i in range(SHORT_RUN)]
    entries = chain(check_drafts(drafts), head_seq=0, head_hash=GENESIS_HASH, now=utc_now())

    _insert_entries(connection, entries, InsertSizes.of(connection))

    inserts = [sql for sql in statements if sql.startswith("INSERT")]
    assert len(inserts) == 3  # the page's run (8 rows); the 20 others as 16 + 4 full rows
    assert sum(" SELECT " in sql for sql in inserts) == 1  # the run binds its shared values once
    assert _stored_rows(connection) == [(e.seq, e.record_key, e.purpose, e.entry_hash) for e in entries]
    connection.close()


async def test_a_failed_group_fails_every_request_in_it_and_writes_nothing(
    ledger: AsyncEngine, writer: LedgerWriter
) -> None:
    async with ledger.begin() as conn:  # the database itself refuses the insert
        await conn.execute(text(
            "CREATE TRIGGER refuse BEFORE INSERT ON ledger_entries BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        ))
    try:
        results = await asyncio.gather(
            *(writer.append([sample_draft()]) for _ in range(20)),
            return_exceptions=True,
        )
    finally:
        async with ledger.begin() as conn:
            await conn.execute(text("DROP TRIGGER refuse"))

    assert all(isinstance(r, LedgerUnavailable) for r in results)
    async with ledger.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(ledger_entries)) == 0
    assert [e.seq for e in await writer.append([sample_draft()])] == [1]


async def test_a_malformed_draft_fails_only_its_own_request(writer: LedgerWriter) -> None:
    good, bad = await asyncio.gather(
        writer.append([sample_draft()]),
        writer.append([sample_draft(action="erase")]),
        return_exceptions=True,
    )

    assert isinstance(bad, InvalidLedgerDraft)
    assert [e.seq for e in good] == [1]  # type: ignore[union-attr]


async def test_a_cancelled_request_does_not_disturb_the_others(
    ledger: AsyncEngine, writer: LedgerWriter
) -> None:
    tasks = [
        asyncio.ensure_future(writer.append([sample_draft(request_id=f"req-{i}")]))
        for i in range(30)
    ]
    await asyncio.sleep(0)
    tasks[7].cancel()

    results = await asyncio.gather(*tasks, return_exceptions=True)

    assert isinstance(results[7], asyncio.CancelledError)
    assert all(
        isinstance(r, list) and len(r) == 1 for i, r in enumerate(results) if i != 7
    )
    verdict = await verify(ledger)
    assert verdict.ok and verdict.entries in (29, 30)


async def test_entries_read_back_through_the_engine_exactly_as_the_writer_returned_them(
    ledger: AsyncEngine, writer: LedgerWriter
) -> None:
    drafts = [
        sample_draft(record_key="1471080101900001", fields=("nik", "fullName", "address"), masked_fields=("nik",)),
        sample_draft(record_key="1471080101900002", action="write", detail="status=VERIFIED", case="503/2026/0001",
                     client_id="sicantik-sync", purpose=None, department=None, operation_name=None),
        sample_draft(record_key="1471080101900003", subject="warga Tampan — ñ", roles=("citizen", "analyst")),
    ]

    written = await writer.append(drafts)

    read = await query_entries(ledger, limit=10, newest_first=False)
    assert read == written
    assert (await verify(ledger)).ok


def test_only_sqlite_files_take_the_thread(tmp_path: Path) -> None:
    file_engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    memory_engine = create_async_engine("sqlite+aiosqlite://")
    postgres_engine = create_async_engine("postgresql+asyncpg://root@127.0.0.1/test")

    assert sqlite_file(file_engine) == tmp_path / "a.db"
    assert sqlite_file(memory_engine) is None
    assert sqlite_file(postgres_engine) is None


# -- WAL checkpoints run beside the SQLite writer, not inside its commits -------------


def _entries_in_database_file(path: Path) -> int:
    """Entries the main database file holds, ignoring the write-ahead log."""
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM ledger_entries").fetchone()[0])


async def _until(condition, seconds: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


async def test_committed_entries_reach_the_database_file_through_background_checkpoints(
    ledger: AsyncEngine, tmp_path: Path
) -> None:
    path = tmp_path / "hub.db"
    with sqlite3.connect(path) as conn:  # the tables into the file; the log starts empty
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    appender = SqliteThreadAppender(path)
    try:
        drafts = check_drafts([sample_draft(record_key=f"{1471080101000000 + i}") for i in range(300)])
        await appender.submit(drafts, utc_now)  # ~40 pages: far below any automatic checkpoint

        await _until(lambda: appender.checkpoints.runs >= 1)

        assert _entries_in_database_file(path) == 300
    finally:
        await appender.aclose()
    assert (await verify(ledger)).entries == 300


async def test_small_commits_share_a_checkpoint(ledger: AsyncEngine, tmp_path: Path) -> None:
    """Each entry dirties a few pages: a checkpoint is asked for once enough entries were
    committed, not after every small request."""
    appender = SqliteThreadAppender(tmp_path / "hub.db")
    try:
        for _ in range(EVERY_ENTRIES - 1):
            await appender.submit(check_drafts([sample_draft()]), utc_now)
        await asyncio.sleep(0.2)
        assert appender.checkpoints.runs == 0

        await appender.submit(check_drafts([sample_draft()]), utc_now)

        await _until(lambda: appender.checkpoints.runs == 1)
    finally:
        await appender.aclose()


async def test_the_writer_keeps_a_larger_automatic_checkpoint_as_a_backstop(tmp_path: Path, ledger: AsyncEngine) -> None:
    appender = SqliteThreadAppender(tmp_path / "hub.db")
    try:
        await appender.submit(check_drafts([sample_draft()]), utc_now)
        loop = asyncio.get_running_loop()
        setting = await loop.run_in_executor(
            appender._executor,
            lambda: appender._connect().execute("PRAGMA wal_autocheckpoint").fetchone()[0],
        )
        assert setting == BACKSTOP_PAGES
    finally:
        await appender.aclose()


async def test_a_failing_checkpoint_is_counted_and_does_not_stop_later_ones(tmp_path: Path) -> None:
    checkpoints = BackgroundCheckpoints(tmp_path / "missing" / "hub.db")  # cannot be opened
    try:
        checkpoints.request()
        await _until(lambda: checkpoints.failures >= 1)
        checkpoints.request()
        await _until(lambda: checkpoints.failures >= 2)
    finally:
        await asyncio.get_running_loop().run_in_executor(None, checkpoints.close)
    assert checkpoints.runs == 0


def _page_size(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA page_size").fetchone()[0])


@pytest.mark.parametrize("first", ["engine", "thread"])
async def test_a_new_store_has_8_kib_pages_whichever_connection_opens_it_first(tmp_path: Path, first: str) -> None:
    path = tmp_path / "new.db"
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    writer = LedgerWriter(engine)
    try:
        if first == "engine":
            await create_ledger_tables(engine)
            await writer.append([sample_draft()])
        else:
            appender = SqliteThreadAppender(path)
            try:
                with pytest.raises(LedgerUnavailable):  # no tables yet: the file is made all the same
                    await appender.submit(check_drafts([sample_draft()]), utc_now)
            finally:
                await appender.aclose()
            await create_ledger_tables(engine)
            await writer.append([sample_draft()])
    finally:
        await writer.aclose()
        await engine.dispose()
    assert _page_size(path) == 8192


async def test_a_store_made_with_4_kib_pages_keeps_them_and_takes_entries(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA page_size=4096")
        conn.execute("PRAGMA journal_mode=WAL")
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    await create_ledger_tables(engine)
    writer = LedgerWriter(engine)
    try:
        written = await writer.append([sample_draft(record_key=f"{1471080101000000 + i}") for i in range(300)])
    finally:
        await writer.aclose()
    try:
        assert len(written) == 300 and (await verify(engine)).ok
    finally:
        await engine.dispose()
    assert _page_size(path) == 4096
