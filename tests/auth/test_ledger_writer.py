"""Group commit: concurrent requests share ledger transactions without losing their own entries.

Every test runs on both of the writer's paths on SQLite: the dedicated-thread connection
(the default for a SQLite file) and the async engine (what PostgreSQL uses)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from auth.ledger import (
    InvalidLedgerDraft,
    LedgerUnavailable,
    LedgerWriter,
    append,
    query_entries,
    verify,
)
from auth.ledger.sqlite_thread import sqlite_file
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
