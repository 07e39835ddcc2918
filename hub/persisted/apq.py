"""Automatic persisted queries: documents kept under their SHA-256 in the hub store.

Anyone may register a document here (that is the point of APQ), so what is kept is
bounded for all callers together, however many there are: a document longer than
`max_bytes` is not kept, at most `max_entries` are and at most `max_total_bytes` of text
(the least recently used go first, until both bounds hold), and one unused for
`ttl_seconds` counts as absent and is deleted at the next registration. Pushed operations
live in their own table (hub.persisted.operations) and are never evicted by these. Each
outcome is counted through `on_outcome(outcome, n)`: `kept`, `too_large`, `evicted`,
`expired` (`simpul_apq_registrations` at /metrics: a flood shows as evictions).

Only documents that passed the caller's validation are registered
(hub.persisted.documents), and a document is found by the hash of its own text, so one
caller's registration cannot change what another runs. Each instance keeps the
documents it used lately in memory (at most `local_bytes` of text; a hash names one text
for good, so a copy is never wrong) and marks them used in the store at most once per
`touch_seconds`, so that hits cost no write.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from cachetools import LRUCache
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.persisted.tables import apq_table as table
from hub.store import write_transaction

_EVICT_BATCH = 256


class ApqStore:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        max_entries: int,
        max_bytes: int,
        ttl_seconds: float,
        max_total_bytes: int | None = None,
        local_bytes: int = 4 * 1024 * 1024,
        on_outcome: Callable[[str, int], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_total_bytes = max_total_bytes if max_total_bytes is not None else max_entries * max_bytes
        self.ttl_seconds = ttl_seconds
        self.touch_seconds = min(3600.0, ttl_seconds / 10)
        self._clock = clock
        self._on_outcome = on_outcome
        self._local: LRUCache[str, tuple[str, float]] = LRUCache(
            max(local_bytes, max_bytes), getsizeof=lambda entry: len(entry[0]) + 100)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _count(self, outcome: str, n: int = 1) -> None:
        if self._on_outcome is not None and n > 0:
            self._on_outcome(outcome, n)

    async def get(self, sha256: str) -> str | None:
        """The document registered under `sha256`, or None (never registered, evicted
        or expired)."""
        now = self._clock()
        local = self._local.get(sha256)
        if local is not None and now - local[1] < self.touch_seconds:
            return local[0]
        cutoff = self._now() - timedelta(seconds=self.ttl_seconds)
        async with self._engine.connect() as conn:
            row = (await conn.execute(
                sa.select(table.c.body, table.c.used_at).where(table.c.sha256 == sha256, table.c.used_at >= cutoff)
            )).first()
        if row is None:
            self._local.pop(sha256, None)
            return None
        body, used_at = row
        used = used_at if used_at.tzinfo is not None else used_at.replace(tzinfo=UTC)
        if (self._now() - used).total_seconds() >= self.touch_seconds:
            async with self._engine.begin() as conn:
                await conn.execute(table.update().where(table.c.sha256 == sha256).values(used_at=self._now()))
        self._local[sha256] = (body, now)
        return str(body)

    async def put(self, sha256: str, body: str) -> bool:
        """Register `body` (whose hash the caller checked); False when it is too long to
        keep. Expired entries go, then the least recently used beyond the bounds."""
        size = len(body.encode("utf-8"))
        if size > self.max_bytes:
            self._count("too_large")
            return False
        now = self._now()
        try:
            async with write_transaction(self._engine) as conn:
                found = (await conn.execute(sa.select(table.c.sha256).where(table.c.sha256 == sha256))).first()
                if found is None:
                    await conn.execute(table.insert().values(sha256=sha256, body=body, created_at=now, used_at=now,
                                                             bytes=size))
                else:
                    await conn.execute(table.update().where(table.c.sha256 == sha256).values(used_at=now))
                expired = await conn.execute(
                    table.delete().where(table.c.used_at < now - timedelta(seconds=self.ttl_seconds)))
                evicted = await self._evict(conn)
        except IntegrityError:  # another instance registered it at the same moment
            pass
        else:
            self._count("kept")
            self._count("expired", max(expired.rowcount or 0, 0))
            self._count("evicted", evicted)
        if size <= self._local.maxsize:
            self._local[sha256] = (body, self._clock())
        return True

    async def _evict(self, conn: AsyncConnection) -> int:
        """Delete the least recently used until at most `max_entries` and
        `max_total_bytes` remain; how many went."""
        count, total = (await conn.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(table.c.bytes), 0)).select_from(table))).one()
        excess_entries, excess_bytes = count - self.max_entries, total - self.max_total_bytes
        gone = 0
        while excess_entries > 0 or excess_bytes > 0:
            oldest = (await conn.execute(sa.select(table.c.sha256, table.c.bytes).order_by(
                table.c.used_at, table.c.sha256).limit(_EVICT_BATCH))).all()
            doomed = []
            for sha, size in oldest:
                if excess_entries <= 0 and excess_bytes <= 0:
                    break
                doomed.append(sha)
                excess_entries -= 1
                excess_bytes -= size
            if not doomed:
                break
            await conn.execute(table.delete().where(table.c.sha256.in_(doomed)))
            gone += len(doomed)
        return gone

    async def count(self) -> int:
        async with self._engine.connect() as conn:
            return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())

    async def stored_bytes(self) -> int:
        async with self._engine.connect() as conn:
            return int((await conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(table.c.bytes), 0)).select_from(table))).scalar_one())

    @property
    def local_bytes(self) -> int:
        """The text this instance holds in memory (the cache's size as it counts it)."""
        return int(self._local.currsize)


__all__ = ["ApqStore"]
