"""The event log in the hub store: every hub event (a bounded number of the newest,
`events.retention`), each source's feed position, and the feed readers' lease.

The feed reader writes a batch's events and its new position in one transaction, so a
restart resumes exactly after the last batch written: nothing read twice into the log,
nothing skipped. The log is what the bus re-delivers from (hub.events.redis_stream)
and what `after:` replays from.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from schema.events import EventKind, HubEvent

events_metadata = MetaData()

events_table = Table(
    "hub_events",
    events_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(20), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("number", String(100), nullable=False),
    Column("status", String(40), nullable=False),
    Column("at", String(40), nullable=False),  # ISO 8601 with offset, as the source gave it
    Column("logged", Float, nullable=False),  # when the reader wrote it (epoch seconds)
)

positions_table = Table(
    "hub_feed_positions",
    events_metadata,
    Column("source", String(40), primary_key=True),
    Column("cursor", String(200), nullable=True),
    Column("updated", Float, nullable=False),
)

leases_table = Table(
    "hub_feed_leases",
    events_metadata,
    Column("name", String(40), primary_key=True),
    Column("holder", String(100), nullable=False),
    Column("expires", Float, nullable=False),
)


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event before the log gives it its id."""

    source: str
    kind: EventKind
    number: str
    status: str
    at: datetime


def _event(row: object) -> HubEvent:
    return HubEvent(id=row.id, source=row.source, kind=EventKind(row.kind), number=row.number,  # type: ignore[attr-defined]
                    status=row.status, at=datetime.fromisoformat(row.at))  # type: ignore[attr-defined]


async def feed_position(conn: AsyncConnection, source: str) -> str | None:
    return (await conn.execute(select(positions_table.c.cursor).where(positions_table.c.source == source))).scalar()


async def has_position(conn: AsyncConnection, source: str) -> bool:
    found = await conn.execute(select(positions_table.c.source).where(positions_table.c.source == source))
    return found.first() is not None


async def append_events(
    conn: AsyncConnection, source: str, events: Sequence[NewEvent], cursor: str | None
) -> list[HubEvent]:
    """Log `events` and move `source`'s position to `cursor`, in the caller's transaction."""
    now = time.time()
    logged = []
    for event in events:
        result = await conn.execute(insert(events_table).values(
            source=event.source, kind=event.kind.value, number=event.number, status=event.status,
            at=event.at.isoformat(), logged=now))
        (event_id,) = result.inserted_primary_key or (None,)
        logged.append(HubEvent(id=int(event_id), source=event.source, kind=event.kind, number=event.number,
                               status=event.status, at=event.at))
    moved = await conn.execute(update(positions_table).where(positions_table.c.source == source)
                               .values(cursor=cursor, updated=now))
    if moved.rowcount == 0:
        await conn.execute(insert(positions_table).values(source=source, cursor=cursor, updated=now))
    return logged


async def events_after(conn: AsyncConnection, after: int, *, limit: int = 1000) -> list[HubEvent]:
    rows = await conn.execute(select(events_table).where(events_table.c.id > after)
                              .order_by(events_table.c.id).limit(limit))
    return [_event(row) for row in rows]


async def log_bounds(conn: AsyncConnection) -> tuple[int, int]:
    """(oldest id, newest id) retained; (0, 0) when the log is empty."""
    low, high = (await conn.execute(select(func.min(events_table.c.id), func.max(events_table.c.id)))).one()
    return (low or 0, high or 0)


async def prune_events(conn: AsyncConnection, *, keep: int) -> int:
    """Drop all but the newest `keep` events."""
    _, high = await log_bounds(conn)
    if high <= keep:
        return 0
    result = await conn.execute(delete(events_table).where(events_table.c.id <= high - keep))
    return result.rowcount or 0


async def take_lease(conn: AsyncConnection, name: str, holder: str, *, seconds: float) -> bool:
    """Take or renew the lease `name` for `holder` (in the caller's write transaction):
    True when `holder` holds it for the next `seconds`."""
    now = time.time()
    row = (await conn.execute(select(leases_table).where(leases_table.c.name == name))).first()
    if row is None:
        await conn.execute(insert(leases_table).values(name=name, holder=holder, expires=now + seconds))
        return True
    if row.holder != holder and row.expires > now:
        return False
    taken = await conn.execute(update(leases_table).where(leases_table.c.name == name)
                               .where(leases_table.c.holder == row.holder)
                               .where(leases_table.c.expires == row.expires)
                               .values(holder=holder, expires=now + seconds))
    return taken.rowcount == 1  # another instance renewed or took it in between: not ours


async def drop_lease(conn: AsyncConnection, name: str, holder: str) -> None:
    await conn.execute(delete(leases_table).where(leases_table.c.name == name).where(leases_table.c.holder == holder))


async def lease_holder(conn: AsyncConnection, name: str) -> tuple[str, float] | None:
    row = (await conn.execute(select(leases_table).where(leases_table.c.name == name))).first()
    return (row.holder, row.expires) if row is not None else None
