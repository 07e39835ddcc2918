"""Group commit: concurrent requests share ledger transactions without losing their own entries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from auth.ledger import (
    InvalidLedgerDraft,
    LedgerUnavailable,
    LedgerWriter,
    append,
    verify,
)
from auth.ledger.tables import ledger_entries
from auth.ledger.testing import create_ledger_tables, sample_draft


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    await create_ledger_tables(engine)
    yield engine
    await engine.dispose()


def count_commits(engine: AsyncEngine) -> list[int]:
    commits = [0]

    @event.listens_for(engine.sync_engine, "commit")
    def on_commit(conn):  # type: ignore[no-untyped-def]
        commits[0] += 1

    return commits


async def test_concurrent_requests_share_commits_and_each_gets_its_own_entries(
    ledger: AsyncEngine,
) -> None:
    writer = LedgerWriter(ledger)
    commits = count_commits(ledger)

    results = await asyncio.gather(
        *(
            writer.append([sample_draft(request_id=f"req-{i}")] * (1 + i % 2))
            for i in range(200)
        )
    )

    assert commits[0] < 50
    for i, entries in enumerate(results):
        assert {e.request_id for e in entries} == {f"req-{i}"}
        assert [e.seq for e in entries] == list(
            range(entries[0].seq, entries[0].seq + 1 + i % 2)
        )
    verdict = await verify(ledger)
    assert verdict.ok and verdict.entries == 300


async def test_a_writer_and_direct_appends_keep_one_chain(ledger: AsyncEngine) -> None:
    writer = LedgerWriter(ledger)

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
    ledger: AsyncEngine,
) -> None:
    writer = LedgerWriter(ledger)

    def fail(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("INSERT INTO LEDGER_ENTRIES"):
            raise RuntimeError("disk full")

    event.listen(ledger.sync_engine, "before_cursor_execute", fail)
    try:
        results = await asyncio.gather(
            *(writer.append([sample_draft()]) for _ in range(20)),
            return_exceptions=True,
        )
    finally:
        event.remove(ledger.sync_engine, "before_cursor_execute", fail)

    assert all(isinstance(r, LedgerUnavailable) for r in results)
    async with ledger.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(ledger_entries)) == 0
    assert [e.seq for e in await writer.append([sample_draft()])] == [1]


async def test_a_malformed_draft_fails_only_its_own_request(
    ledger: AsyncEngine,
) -> None:
    writer = LedgerWriter(ledger)

    good, bad = await asyncio.gather(
        writer.append([sample_draft()]),
        writer.append([sample_draft(action="erase")]),
        return_exceptions=True,
    )

    assert isinstance(bad, InvalidLedgerDraft)
    assert [e.seq for e in good] == [1]  # type: ignore[union-attr]


async def test_a_cancelled_request_does_not_disturb_the_others(
    ledger: AsyncEngine,
) -> None:
    writer = LedgerWriter(ledger)
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
