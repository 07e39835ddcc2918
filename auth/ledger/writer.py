"""Group commit: many concurrent requests, one ledger transaction (and one fsync).

`append(engine, drafts)` costs one transaction per request; with single-entry requests
the commit's flush to disk is the whole cost, and concurrent writers in one process
queue on the database lock. A `LedgerWriter` (one per engine, made by the hub at
start-up) lets requests that arrive while a transaction is being committed share the
next one: each request still gets its own contiguous entries back only after they are
committed, and a failed transaction fails every request in it (nothing written, each
raises `LedgerUnavailable`). Across processes the database lock still orders the groups.

On a SQLite file the transactions run on a thread of their own with a plain `sqlite3`
connection (`auth.ledger.sqlite_thread`): one hop from the event loop per transaction
instead of one per statement. Elsewhere (PostgreSQL, in-memory SQLite) they go through
the engine. `engine_only=True` forces the engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine

from auth.ledger.errors import LedgerUnavailable
from auth.ledger.model import LedgerDraft, LedgerEntry
from auth.ledger.sqlite_thread import SqliteThreadAppender, sqlite_file
from auth.ledger.store import Clock, check_drafts, utc_now, write_checked

_Pending = tuple[list[LedgerDraft], "asyncio.Future[list[LedgerEntry]]"]


class LedgerWriter:
    """Appends through one engine, merging requests that wait into one transaction."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Clock = utc_now,
        max_group: int = 5_000,
        engine_only: bool = False,
    ) -> None:
        self._engine = engine
        path = None if engine_only else sqlite_file(engine)
        self._appender = SqliteThreadAppender(path) if path is not None else None
        self.transactions = 0  # committed group transactions
        self._clock = clock
        self._max_group = max_group
        self._pending: list[_Pending] = []
        self._lock = asyncio.Lock()
        self._flushing: set[asyncio.Future[None]] = set()

    async def append(self, entries: Sequence[LedgerDraft]) -> list[LedgerEntry]:
        """Like `auth.ledger.append`: returns once this request's entries are committed."""
        drafts = check_drafts(entries)
        if not drafts:
            return []
        done: asyncio.Future[list[LedgerEntry]] = (
            asyncio.get_running_loop().create_future()
        )
        pending = (drafts, done)
        self._pending.append(pending)
        try:
            while not done.done():
                async with self._lock:
                    if not done.done():
                        # shielded: a cancelled request must not abort the others' commit
                        flush = asyncio.ensure_future(self._flush())
                        self._flushing.add(flush)
                        flush.add_done_callback(self._flushing.discard)
                        await asyncio.shield(flush)
        except asyncio.CancelledError:
            if pending in self._pending:  # not yet in a transaction: drop it
                self._pending.remove(pending)
            else:  # in flight: nobody will read its outcome
                done.add_done_callback(lambda f: f.cancelled() or f.exception())
            raise
        try:
            return done.result()
        except LedgerUnavailable as exc:  # one exception object per request
            raise LedgerUnavailable(exc.message) from exc

    async def _flush(self) -> None:
        group: list[_Pending] = []
        size = 0
        while self._pending and (
            not group or size + len(self._pending[0][0]) <= self._max_group
        ):
            group.append(self._pending.pop(0))
            size += len(group[-1][0])
        batch = [draft for drafts, _ in group for draft in drafts]
        try:
            if self._appender is not None:
                written = await self._appender.write(batch, self._clock)
            else:
                written = await write_checked(self._engine, batch, clock=self._clock)
        except BaseException as exc:
            failure = (
                exc
                if isinstance(exc, LedgerUnavailable)
                else LedgerUnavailable(
                    f"the access ledger write was interrupted: {exc.__class__.__name__}"
                )
            )
            for _, done in group:
                done.set_exception(failure)
            if not isinstance(exc, Exception):
                raise
            return
        self.transactions += 1
        start = 0
        for drafts, done in group:
            done.set_result(written[start : start + len(drafts)])
            start += len(drafts)

    async def aclose(self) -> None:
        """Stop the SQLite writer thread (if any); call once no request is writing."""
        if self._appender is not None:
            await self._appender.aclose()
