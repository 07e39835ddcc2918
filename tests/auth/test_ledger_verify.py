"""Verifying the access ledger: every kind of tampering is found, retention keeps the chain."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from auth.ledger import (
    Checkpoint,
    LedgerEntry,
    LedgerUnavailable,
    append,
    entry_hash,
    prune,
    query_entries,
    verify,
)
from auth.ledger.model import ENTRY_COLUMNS
from auth.ledger.store import chain
from auth.ledger.tables import (
    ledger_checkpoints,
    ledger_entries,
    ledger_head,
    ledger_metadata,
)
from auth.ledger.testing import (
    create_ledger_tables,
    hmac_signer,
    hmac_verifier,
    sample_draft,
)
from tests.support.pg_database import postgres_database

KEY = b"test-checkpoint-key"
JANUARY = datetime(2025, 1, 1, tzinfo=UTC)


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
async def ledger(database_url: str) -> AsyncIterator[AsyncEngine]:
    if database_url.startswith("postgresql"):
        await drop_ledger_tables(database_url)
    engine = create_async_engine(database_url)
    await create_ledger_tables(engine)
    yield engine
    await engine.dispose()


def clock_at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


async def fill(
    engine: AsyncEngine, count: int, *, start: datetime = JANUARY, per_request: int = 1
) -> list[LedgerEntry]:
    """`count` entries, one hour apart per request, `per_request` to a request."""
    written: list[LedgerEntry] = []
    for n in range(0, count, per_request):
        size = min(per_request, count - n)
        drafts = [
            sample_draft(
                request_id=f"req-{n}", record_key=f"{1471080101900000 + n + i}"
            )
            for i in range(size)
        ]
        written += await append(
            engine, drafts, clock=clock_at(start + timedelta(hours=n))
        )
    return written


async def run(engine: AsyncEngine, *statements: Any) -> None:
    async with engine.begin() as conn:
        for statement in statements:
            await conn.execute(statement)


def at(seq: int) -> Any:
    return ledger_entries.c.seq == seq


# --- an intact chain -------------------------------------------------------------------


async def test_an_untouched_ledger_verifies(ledger: AsyncEngine) -> None:
    await fill(ledger, 20, per_request=3)

    result = await verify(ledger)

    assert result.ok and result.problem is None
    assert (result.entries, result.first_seq, result.head_seq) == (20, 1, 20)


async def test_an_empty_ledger_verifies(ledger: AsyncEngine) -> None:
    result = await verify(ledger)

    assert result.ok and result.entries == 0


async def test_two_thousand_entries_verify_across_many_chunks(
    ledger: AsyncEngine,
) -> None:
    await fill(ledger, 2_000, per_request=100)

    result = await verify(ledger, chunk_size=128)

    assert result.ok, result.detail
    assert result.entries == 2_000


async def test_tampering_deep_in_a_long_chain_is_found_across_chunks(
    ledger: AsyncEngine,
) -> None:
    await fill(ledger, 2_000, per_request=100)
    await run(
        ledger, update(ledger_entries).where(at(1_537)).values(subject="someone-else")
    )

    result = await verify(ledger, chunk_size=128)

    assert (result.ok, result.problem, result.broken_seq) == (False, "altered", 1_537)
    assert result.entries == 1_536


# --- tampering ---------------------------------------------------------------------------


def changed(column: str, entry: LedgerEntry) -> Any:
    """A different value of the right type for `column` of `entry`."""
    if column == "seq":
        return 1_000_000
    if column == "time":
        return entry.time + timedelta(microseconds=1)
    if column in ("roles", "fields", "masked_fields"):
        return ("auditor",) if column == "roles" else ("religion",)
    if column in ("prev_hash", "entry_hash", "document_hash"):
        return "f" * 64
    if column == "action":
        return "write"
    return "forged"


@pytest.mark.parametrize("column", ENTRY_COLUMNS)
@pytest.mark.parametrize("position", [1, 7, 20], ids=["first", "middle", "last"])
async def test_changing_any_column_of_any_entry_is_found(
    ledger: AsyncEngine, column: str, position: int
) -> None:
    entries = await fill(ledger, 20, per_request=4)
    await run(
        ledger,
        update(ledger_entries)
        .where(at(position))
        .values({column: changed(column, entries[position - 1])}),
    )

    result = await verify(ledger)

    assert not result.ok
    assert result.broken_seq == position
    assert result.problem == ("reordered" if column == "seq" else "altered")


@pytest.mark.parametrize(
    "assignment",
    [
        pytest.param("roles = '[ \"population_officer\" ]'", id="json-with-spaces"),
        pytest.param("time = replace(time, 'Z', '+00:00')", id="same-time-other-form"),
        pytest.param("roles = 5", id="wrong-type"),
        pytest.param("fields = 'not json'", id="not-json"),
    ],
)
async def test_sqlite_values_rewritten_in_another_form_are_found(
    ledger: AsyncEngine, assignment: str
) -> None:
    if ledger.dialect.name != "sqlite":
        pytest.skip("PostgreSQL columns are typed")
    await fill(ledger, 5)
    await run(ledger, text(f"UPDATE ledger_entries SET {assignment} WHERE seq = 3"))

    result = await verify(ledger)

    assert (result.ok, result.problem, result.broken_seq) == (False, "altered", 3)


async def test_a_rewritten_entry_with_a_recomputed_hash_is_found_by_its_successor(
    ledger: AsyncEngine,
) -> None:
    entries = await fill(ledger, 20)
    forged = replace(entries[9], subject="someone-else")
    await run(
        ledger,
        update(ledger_entries)
        .where(at(10))
        .values(subject=forged.subject, entry_hash=entry_hash(forged)),
    )

    result = await verify(ledger)

    assert (result.ok, result.problem, result.broken_seq) == (False, "altered", 10)


async def test_a_rewritten_last_entry_with_a_recomputed_hash_is_found_by_the_head(
    ledger: AsyncEngine,
) -> None:
    entries = await fill(ledger, 20)
    forged = replace(entries[-1], subject="someone-else")
    await run(
        ledger,
        update(ledger_entries)
        .where(at(20))
        .values(subject=forged.subject, entry_hash=entry_hash(forged)),
    )

    result = await verify(ledger)

    assert (result.ok, result.problem, result.broken_seq) == (False, "altered", 20)


async def test_a_deleted_entry_is_found(ledger: AsyncEngine) -> None:
    await fill(ledger, 20)
    await run(ledger, delete(ledger_entries).where(at(8)))

    result = await verify(ledger)

    assert (result.ok, result.problem, result.broken_seq) == (False, "deleted", 8)
    assert result.entries == 7


async def test_a_deleted_last_entry_is_found_through_the_head(
    ledger: AsyncEngine,
) -> None:
    await fill(ledger, 20)
    await run(ledger, delete(ledger_entries).where(at(20)))

    result = await verify(ledger)

    assert (result.ok, result.problem, result.broken_seq) == (False, "deleted", 20)


async def test_deleted_entries_with_the_rest_renumbered_are_found(
    ledger: AsyncEngine,
) -> None:
    await fill(ledger, 20)
    await run(
        ledger,
        delete(ledger_entries).where(at(8)),
        update(ledger_entries)
        .where(ledger_entries.c.seq > 8)
        .values(seq=-ledger_entries.c.seq),
        update(ledger_entries)
        .where(ledger_entries.c.seq < 0)
        .values(seq=-ledger_entries.c.seq - 1),
    )

    result = await verify(ledger)

    assert not result.ok and result.broken_seq == 8


@pytest.mark.parametrize(
    ("first", "second"), [(5, 12), (9, 10)], ids=["apart", "adjacent"]
)
async def test_two_swapped_entries_are_found(
    ledger: AsyncEngine, first: int, second: int
) -> None:
    await fill(ledger, 20)
    await run(
        ledger,
        update(ledger_entries).where(at(first)).values(seq=-1),
        update(ledger_entries).where(at(second)).values(seq=first),
        update(ledger_entries).where(at(-1)).values(seq=second),
    )

    result = await verify(ledger)

    assert (result.ok, result.problem, result.broken_seq) == (False, "reordered", first)


async def test_a_forged_entry_inserted_in_the_middle_is_found(
    ledger: AsyncEngine,
) -> None:
    entries = await fill(ledger, 20)
    [forged] = chain(
        [sample_draft(subject="intruder")],
        head_seq=10,
        head_hash=entries[9].entry_hash,
        now=entries[9].time,
    )
    await run(
        ledger,
        update(ledger_entries)
        .where(ledger_entries.c.seq > 10)
        .values(seq=-ledger_entries.c.seq),
        update(ledger_entries)
        .where(ledger_entries.c.seq < 0)
        .values(seq=-ledger_entries.c.seq + 1),
        insert(ledger_entries).values(
            {name: getattr(forged, name) for name in ENTRY_COLUMNS}
        ),
        update(ledger_head).values(seq=21),
    )

    result = await verify(ledger)

    assert (result.ok, result.problem, result.broken_seq) == (False, "inserted", 11)


async def test_an_entry_appended_behind_the_ledgers_back_is_found(
    ledger: AsyncEngine,
) -> None:
    entries = await fill(ledger, 20)
    [forged] = chain(
        [sample_draft()],
        head_seq=20,
        head_hash=entries[-1].entry_hash,
        now=entries[-1].time,
    )
    await run(
        ledger,
        insert(ledger_entries).values(
            {name: getattr(forged, name) for name in ENTRY_COLUMNS}
        ),
    )

    result = await verify(ledger)

    assert (result.ok, result.problem, result.broken_seq) == (False, "inserted", 21)


async def test_a_removed_head_row_is_found(ledger: AsyncEngine) -> None:
    await fill(ledger, 5)
    await run(ledger, delete(ledger_head))

    result = await verify(ledger)

    assert not result.ok and result.problem == "inserted"


async def test_a_rehashed_tail_after_a_change_is_found_by_the_head(
    ledger: AsyncEngine,
) -> None:
    entries = await fill(ledger, 20)
    prev = entries[5].entry_hash
    statements = []
    for entry in entries[6:]:
        forged = replace(
            entry,
            prev_hash=prev,
            subject="someone-else" if entry.seq == 7 else entry.subject,
        )
        forged = replace(forged, entry_hash=entry_hash(forged))
        statements.append(
            update(ledger_entries)
            .where(at(entry.seq))
            .values(
                subject=forged.subject,
                prev_hash=forged.prev_hash,
                entry_hash=forged.entry_hash,
            )
        )
        prev = forged.entry_hash
    await run(ledger, *statements)

    result = await verify(ledger)

    assert (result.ok, result.problem, result.broken_seq) == (False, "altered", 20)


async def test_an_unreadable_store_is_ledger_unavailable_not_a_verdict(
    tmp_path: Path,
) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(LedgerUnavailable):
            await verify(engine)
    finally:
        await engine.dispose()


# --- retention ---------------------------------------------------------------------------


async def test_pruning_leaves_a_signed_checkpoint_the_chain_continues_from(
    ledger: AsyncEngine,
) -> None:
    entries = await fill(ledger, 30)  # hourly from midnight
    cutoff = JANUARY + timedelta(hours=12)

    checkpoint = await prune(
        ledger, before=cutoff, signer=hmac_signer(KEY), clock=clock_at(cutoff)
    )

    assert checkpoint == Checkpoint(
        12, entries[11].entry_hash, 12, cutoff, checkpoint.signature
    )
    remaining = await query_entries(ledger, newest_first=False, limit=100)
    assert [e.seq for e in remaining] == list(range(13, 31))
    assert remaining[0].prev_hash == checkpoint.last_hash
    result = await verify(ledger, verifier=hmac_verifier(KEY))
    assert result.ok, result.detail
    assert (result.entries, result.first_seq, result.checkpoint_signature_checked) == (
        18,
        13,
        True,
    )


async def test_the_chain_keeps_growing_and_pruning_after_a_checkpoint(
    ledger: AsyncEngine,
) -> None:
    await fill(ledger, 10)
    await prune(ledger, before=JANUARY + timedelta(hours=5), signer=hmac_signer(KEY))
    await fill(ledger, 10, start=JANUARY + timedelta(days=1))

    second = await prune(
        ledger, before=JANUARY + timedelta(hours=8), signer=hmac_signer(KEY)
    )

    assert second is not None and (second.last_seq, second.count) == (8, 3)
    result = await verify(ledger, verifier=hmac_verifier(KEY))
    assert result.ok and (result.entries, result.first_seq) == (12, 9)


async def test_pruning_everything_leaves_an_empty_verifiable_chain_that_continues(
    ledger: AsyncEngine,
) -> None:
    entries = await fill(ledger, 5)
    await prune(ledger, before=JANUARY + timedelta(days=30), signer=hmac_signer(KEY))
    assert (await verify(ledger)).ok

    [next_entry] = await append(ledger, [sample_draft()])

    assert next_entry.seq == 6 and next_entry.prev_hash == entries[-1].entry_hash
    assert (await verify(ledger, verifier=hmac_verifier(KEY))).entries == 1


async def test_pruning_stops_at_the_first_entry_that_is_not_old_enough(
    ledger: AsyncEngine,
) -> None:
    await fill(ledger, 3)
    await append(
        ledger, [sample_draft()], clock=clock_at(JANUARY + timedelta(days=60))
    )  # seq 4, late
    await fill(
        ledger, 3, start=JANUARY + timedelta(days=1)
    )  # seq 5..7, earlier than seq 4

    checkpoint = await prune(
        ledger, before=JANUARY + timedelta(days=30), signer=hmac_signer(KEY)
    )

    assert checkpoint is not None and checkpoint.last_seq == 3
    assert (await verify(ledger)).ok


async def test_nothing_old_enough_means_no_checkpoint(ledger: AsyncEngine) -> None:
    await fill(ledger, 5)

    assert await prune(ledger, before=JANUARY, signer=hmac_signer(KEY)) is None
    assert (await verify(ledger)).entries == 5


async def test_a_forged_checkpoint_signature_is_found(ledger: AsyncEngine) -> None:
    await fill(ledger, 10)
    await prune(ledger, before=JANUARY + timedelta(hours=5), signer=hmac_signer(KEY))
    await run(ledger, update(ledger_checkpoints).values(count=1))

    result = await verify(ledger, verifier=hmac_verifier(KEY))

    assert (result.ok, result.problem, result.broken_seq) == (False, "checkpoint", 5)
    assert (
        await verify(ledger, verifier=hmac_verifier(b"another key"))
    ).problem == "checkpoint"


async def test_a_checkpoint_that_does_not_lead_to_the_remaining_entries_is_found(
    ledger: AsyncEngine,
) -> None:
    await fill(ledger, 10)
    await prune(ledger, before=JANUARY + timedelta(hours=5), signer=hmac_signer(KEY))
    await run(ledger, update(ledger_checkpoints).values(last_hash="e" * 64))

    result = await verify(ledger)

    assert (result.ok, result.problem, result.broken_seq) == (False, "checkpoint", 5)


async def test_entries_left_below_a_checkpoint_are_found(ledger: AsyncEngine) -> None:
    entries = await fill(ledger, 10)
    await prune(ledger, before=JANUARY + timedelta(hours=5), signer=hmac_signer(KEY))
    await run(
        ledger,
        insert(ledger_entries).values(
            {name: getattr(entries[2], name) for name in ENTRY_COLUMNS}
        ),
    )

    result = await verify(ledger)

    assert (result.ok, result.problem, result.broken_seq) == (False, "inserted", 3)


async def test_pruning_refuses_to_sign_over_a_tampered_past(
    ledger: AsyncEngine,
) -> None:
    await fill(ledger, 10)
    await run(ledger, update(ledger_entries).where(at(3)).values(purpose="statistics"))

    with pytest.raises(LedgerUnavailable, match="altered at seq 3"):
        await prune(
            ledger, before=JANUARY + timedelta(hours=5), signer=hmac_signer(KEY)
        )

    assert await count(ledger) == 10


async def test_a_failing_signer_prunes_nothing(ledger: AsyncEngine) -> None:
    await fill(ledger, 10)

    def broken_signer(payload: bytes) -> str:
        raise OSError("key store offline")

    with pytest.raises(LedgerUnavailable):
        await prune(ledger, before=JANUARY + timedelta(hours=5), signer=broken_signer)

    assert await count(ledger) == 10
    assert (await verify(ledger)).ok


async def count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(
            await conn.scalar(select(func.count()).select_from(ledger_entries)) or 0
        )
