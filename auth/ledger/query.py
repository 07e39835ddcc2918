"""Reading entries back: for auditors (`accessLedger`) and citizens (`myAccessLog`).

The schema layer decides who may ask what (a citizen only by their own NIK, with the
officers' identities left out); this module only makes the filtered read cheap. The
filters that narrow most have indexes that end in seq: (record_key, seq), (subject, seq),
and (time). Pages are keyset pages: pass the last seq seen as `after_seq`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.ledger.errors import InvalidLedgerQuery, LedgerUnavailable
from auth.ledger.model import ENTRY_COLUMNS, LedgerEntry
from auth.ledger.tables import ledger_entries
from auth.ledger.transactions import prepare_engine

MAX_LIMIT = 1_000

_COLUMNS = [ledger_entries.c[name] for name in ENTRY_COLUMNS]


async def query_entries(
    engine: AsyncEngine,
    *,
    subject: str | None = None,
    record_key: str | None = None,
    purpose: str | None = None,
    record_type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    after_seq: int | None = None,
    newest_first: bool = True,
) -> list[LedgerEntry]:
    """Entries matching every given filter; `since` inclusive, `until` exclusive.

    Raises `InvalidLedgerQuery` (BAD_USER_INPUT) for a bad limit, cursor or naive
    datetime, and `LedgerUnavailable` when the store cannot be read.
    """
    if (
        isinstance(limit, bool)
        or not isinstance(limit, int)
        or not 1 <= limit <= MAX_LIMIT
    ):
        raise InvalidLedgerQuery(f"limit must be between 1 and {MAX_LIMIT}")
    if after_seq is not None and (
        isinstance(after_seq, bool) or not isinstance(after_seq, int) or after_seq < 0
    ):
        raise InvalidLedgerQuery("after_seq must be a non-negative integer")
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and (
            not isinstance(moment, datetime) or moment.tzinfo is None
        ):
            raise InvalidLedgerQuery(f"{name} must be a timezone-aware datetime")
    table = ledger_entries.c
    stmt = select(*_COLUMNS)
    for column, value in (
        (table.subject, subject),
        (table.record_key, record_key),
        (table.purpose, purpose),
        (table.record_type, record_type),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if since is not None:
        stmt = stmt.where(table.time >= since)
    if until is not None:
        stmt = stmt.where(table.time < until)
    if after_seq is not None:
        stmt = stmt.where(
            table.seq < after_seq if newest_first else table.seq > after_seq
        )
    stmt = stmt.order_by(table.seq.desc() if newest_first else table.seq).limit(limit)
    prepare_engine(engine)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
    except Exception as exc:
        raise LedgerUnavailable(
            f"the access ledger could not be read: {exc.__class__.__name__}"
        ) from exc
    return [_entry(row._mapping) for row in rows]


def _entry(values: Any) -> LedgerEntry:
    return LedgerEntry(**{name: values[name] for name in ENTRY_COLUMNS})
