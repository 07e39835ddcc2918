"""Automatic persisted queries: documents kept under their SHA-256 in the hub store.

Anyone may register a document here (that is the point of APQ), so the store is
bounded: a document longer than `max_bytes` is not kept, at most `max_entries` are
(the least recently used go first), and one unused for `ttl_seconds` counts as
absent and is deleted at the next registration. Only documents that passed the
caller's validation are registered (hub.persisted.documents), and a document is found
by the hash of its own text, so one caller's registration cannot change what another
runs. Each instance keeps the documents it used lately in memory (a hash names one
text for good, so a copy is never wrong) and marks them used in the store at most once
per `touch_seconds`, so that hits cost no write.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from cachetools import LRUCache
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.persisted.tables import apq_table as table
from hub.store import write_transaction


class ApqStore:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        max_entries: int,
        max_bytes: int,
        ttl_seconds: float,
        local_entries: int = 1024,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.ttl_seconds = ttl_seconds
        self.touch_seconds = min(3600.0, ttl_seconds / 10)
        self._clock = clock
        self._local: LRUCache[str, tuple[str, float]] = LRUCache(local_entries)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

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
        keep. Expired entries go, then the least recently used beyond `max_entries`."""
        if len(body.encode("utf-8")) > self.max_bytes:
            return False
        now = self._now()
        try:
            async with write_transaction(self._engine) as conn:
                found = (await conn.execute(sa.select(table.c.sha256).where(table.c.sha256 == sha256))).first()
                if found is None:
                    await conn.execute(table.insert().values(sha256=sha256, body=body, created_at=now, used_at=now))
                else:
                    await conn.execute(table.update().where(table.c.sha256 == sha256).values(used_at=now))
                await conn.execute(table.delete().where(table.c.used_at < now - timedelta(seconds=self.ttl_seconds)))
                count = (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
                if count > self.max_entries:
                    oldest = (sa.select(table.c.sha256).order_by(table.c.used_at, table.c.sha256)
                              .limit(count - self.max_entries).scalar_subquery())
                    await conn.execute(table.delete().where(table.c.sha256.in_(oldest)))
        except IntegrityError:  # another instance registered it at the same moment
            pass
        self._local[sha256] = (body, self._clock())
        return True

    async def count(self) -> int:
        async with self._engine.connect() as conn:
            return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())


__all__ = ["ApqStore"]
