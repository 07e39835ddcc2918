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
from collections.abc import Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncEngine

from auth.ledger.errors import LedgerUnavailable
from auth.ledger.model import LedgerDraft, LedgerEntry
from auth.ledger.sqlite_thread import SqliteThreadAppender, sqlite_file
from auth.ledger.store import Clock, check_drafts, utc_now, write_checked

_Pending = tuple[list[LedgerDraft], "asyncio.Future[list[LedgerEntry]]"]


class LedgerWriter:
    """Appends through one engine, merging requests that wait into one transaction.

    `submit` starts a request's commit at once when no other is running (on SQLite the
    thread has the work before the caller next awaits, so the commit overlaps whatever
    the caller does meanwhile) and queues it otherwise; each commit, when it ends,
    starts the next with everything queued. `append` is `submit` and wait.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Clock = utc_now,
        max_group: int = 5_000,
        engine_only: bool = False,
        on_commit: Callable[[int], None] | None = None,
    ) -> None:
        """`on_commit(n)` is told, on the event loop, of each transaction's n entries once
        committed (the hub counts them towards its next head checkpoint)."""
        self._engine = engine
        self._on_commit = on_commit
        path = None if engine_only else sqlite_file(engine)
        self._appender = SqliteThreadAppender(path) if path is not None else None
        self.transactions = 0  # committed group transactions
        self._clock = clock
        self._max_group = max_group
        self._pending: list[_Pending] = []
        self._running: asyncio.Future[list[LedgerEntry]] | None = None

    def submit(self, entries: Sequence[LedgerDraft]) -> asyncio.Future[list[LedgerEntry]]:
        """This request's entries, committed: a future that ends with them, or with
        `LedgerUnavailable` (nothing of the group written). A malformed draft raises
        `InvalidLedgerDraft` here, before anything is queued."""
        drafts = check_drafts(entries)
        done: asyncio.Future[list[LedgerEntry]] = asyncio.get_running_loop().create_future()
        if not drafts:
            done.set_result([])
            return done
        self._pending.append((drafts, done))
        if self._running is None:
            self._commit_next()
        return done

    async def append(self, entries: Sequence[LedgerDraft]) -> list[LedgerEntry]:
        """Like `auth.ledger.append`: returns once this request's entries are committed."""
        done = self.submit(entries)
        try:
            # shielded: a cancelled request must not abort the others' commit
            return await asyncio.shield(done)
        except asyncio.CancelledError:
            queued = next((p for p in self._pending if p[1] is done), None)
            if queued is not None:  # not yet in a transaction: drop it
                self._pending.remove(queued)
                done.cancel()
            else:  # in flight: nobody will read its outcome
                done.add_done_callback(_retrieve)
            raise
        except LedgerUnavailable as exc:  # one exception object per request
            raise LedgerUnavailable(exc.message) from exc

    def _commit_next(self) -> None:
        group: list[_Pending] = []
        size = 0
        while self._pending and (not group or size + len(self._pending[0][0]) <= self._max_group):
            group.append(self._pending.pop(0))
            size += len(group[-1][0])
        batch = [draft for drafts, _ in group for draft in drafts]
        try:
            if self._appender is not None:
                running = self._appender.submit(batch, self._clock)
            else:
                running = asyncio.ensure_future(write_checked(self._engine, batch, clock=self._clock))
        except RuntimeError as exc:  # the writer was closed: nothing can be written
            failure = LedgerUnavailable(f"the access ledger is closed ({exc})")
            for _, done in group:
                done.set_exception(failure)
            return
        self._running = running
        running.add_done_callback(lambda finished: self._settle(group, finished))

    def _settle(self, group: list[_Pending], finished: asyncio.Future[list[LedgerEntry]]) -> None:
        self._running = None
        failure: LedgerUnavailable | None = None
        if finished.cancelled():
            failure = LedgerUnavailable("the access ledger write was interrupted")
        elif (exc := finished.exception()) is not None:
            failure = exc if isinstance(exc, LedgerUnavailable) else LedgerUnavailable(
                f"the access ledger write was interrupted: {exc.__class__.__name__}"
            )
        if failure is None:
            self.transactions += 1
            written = finished.result()
            if self._on_commit is not None:
                self._on_commit(len(written))
            start = 0
            for drafts, done in group:
                if not done.done():
                    done.set_result(written[start : start + len(drafts)])
                start += len(drafts)
        else:
            for _, done in group:
                if not done.done():
                    done.set_exception(failure)
        if self._pending:
            self._commit_next()

    async def aclose(self) -> None:
        """Wait for the running commit, then stop the SQLite thread (if any)."""
        while self._running is not None:
            await asyncio.wait([self._running])
            await asyncio.sleep(0)  # let its callback start the next queued commit
        if self._appender is not None:
            await self._appender.aclose()


def _retrieve(done: asyncio.Future[list[LedgerEntry]]) -> None:
    if not done.cancelled():
        done.exception()
