"""Retention: remove old entries and leave a signed checkpoint in their place.

`prune` removes the longest run of oldest entries that are all older than `before`
(so that a late clock on one entry never punches a hole in the chain), after checking
that run is sound (a checkpoint must not launder a tampered past). In one transaction
holding the chain head it deletes them and records a `Checkpoint`: the last removed
seq, its hash, how many were removed, when, and the signer's signature over those. The
first surviving entry's prev_hash is that hash, so `verify` starts there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from auth.ledger.chain import checkpoint_payload
from auth.ledger.errors import InvalidLedgerDraft, LedgerError, LedgerUnavailable
from auth.ledger.model import GENESIS_HASH, Checkpoint
from auth.ledger.store import Clock, utc_now
from auth.ledger.tables import ledger_checkpoints, ledger_entries
from auth.ledger.transactions import (
    lock_head,
    prepare_engine,
    read_head,
    write_transaction,
)
from auth.ledger.verify import check_range

Signer = Callable[[bytes], str]


async def prune(
    engine: AsyncEngine,
    *,
    before: datetime,
    signer: Signer,
    clock: Clock = utc_now,
    check: bool = True,
) -> Checkpoint | None:
    """Remove the entries older than `before`; None when there is nothing to remove.

    Raises `LedgerUnavailable` (nothing removed) when the store fails, the signer fails,
    or (with `check`) the entries to remove do not form a sound chain.
    """
    if not isinstance(before, datetime) or before.tzinfo is None:
        raise InvalidLedgerDraft("prune needs a timezone-aware `before`")
    prepare_engine(engine)
    try:
        base_seq, base_hash, boundary = await _plan(engine, before)
        if boundary <= base_seq:
            return None
        if check:
            problem = await check_range(
                engine, base_seq=base_seq, base_hash=base_hash, upto_seq=boundary
            )
            if problem is not None:
                raise LedgerUnavailable(f"refusing to prune a broken chain: {problem}")
        async with write_transaction(engine) as conn:
            await lock_head(conn)
            if (await _latest(conn))[0] != base_seq:
                raise LedgerUnavailable("another prune ran meanwhile; try again")
            last_hash = await conn.scalar(
                select(ledger_entries.c.entry_hash).where(
                    ledger_entries.c.seq == boundary
                )
            )
            if last_hash is None:
                raise LedgerUnavailable(f"entry {boundary} is missing; run verify")
            removed = await conn.execute(
                delete(ledger_entries).where(ledger_entries.c.seq <= boundary)
            )
            now = clock()
            signature = signer(
                checkpoint_payload(
                    last_seq=boundary,
                    last_hash=last_hash,
                    count=removed.rowcount,
                    time=now,
                )
            )
            if not isinstance(signature, str) or not signature:
                raise LedgerUnavailable("the checkpoint signer returned no signature")
            checkpoint = Checkpoint(
                boundary, last_hash, removed.rowcount, now, signature
            )
            await conn.execute(
                ledger_checkpoints.insert().values(
                    last_seq=checkpoint.last_seq,
                    last_hash=checkpoint.last_hash,
                    count=checkpoint.count,
                    time=checkpoint.time,
                    signature=checkpoint.signature,
                )
            )
    except LedgerError:
        raise
    except Exception as exc:
        raise LedgerUnavailable(
            f"the access ledger could not be pruned: {exc.__class__.__name__}"
        ) from exc
    return checkpoint


async def _plan(engine: AsyncEngine, before: datetime) -> tuple[int, str, int]:
    """(checkpoint seq, checkpoint hash, last seq to remove) as things stand now."""
    async with engine.connect() as conn:
        base_seq, base_hash = await _latest(conn)
        head_seq, _ = await read_head(conn)
        first_kept = await conn.scalar(
            select(func.min(ledger_entries.c.seq)).where(
                ledger_entries.c.time >= before
            )
        )
    boundary = head_seq if first_kept is None else min(head_seq, first_kept - 1)
    return base_seq, base_hash, boundary


async def _latest(conn: AsyncConnection) -> tuple[int, str]:
    row = (
        await conn.execute(
            select(ledger_checkpoints.c.last_seq, ledger_checkpoints.c.last_hash)
            .order_by(ledger_checkpoints.c.last_seq.desc())
            .limit(1)
        )
    ).first()
    return (0, GENESIS_HASH) if row is None else (int(row.last_seq), str(row.last_hash))
