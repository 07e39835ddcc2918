"""The feed readers: each source's change feed, turned into hub events.

Each feed is read at once again while its source has more, every `poll_seconds` when
it is idle, and after a failure with a growing delay (doubling up to
`max_backoff_seconds`), the other source unaffected. A source that can push signs a
webhook to `/hooks/sources/{source}` (hub.events.hooks): a valid one only calls
`wake(source)`, which makes that feed due now; the feed and its stored position stay
the one truth, so a lost, repeated or forged webhook can neither lose nor repeat an
event, and polling goes on as the safety net (a pushing source may be given a longer
`poll_seconds`).

Exactly one instance reads the feeds: the holder of the `feeds` lease in the hub store
(taken and renewed in a write transaction; on PostgreSQL a compare-and-set on one row).
A holder that dies stops renewing, and another instance takes the lease once it has
expired (`lease_seconds`); the holder renews every third of it whatever `poll_seconds`
is. Each batch is written together with a renewal of the lease, so an instance that
lost the lease cannot write a batch after the new holder has.

A batch's changes are read back from the source (one batch look-up), collapsed to one
event per case, classified (created, status changed, assigned, updated) and written
to the event log with the feed's new position in one transaction; then `publish`
hands the log to the bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from connectors.protocols import ComplaintSource, LicensingSource
from connectors.records import ApplicationRecord, ComplaintRecord, ComplaintStatus
from hub.background import cancel_task
from hub.events.log import (
    NewEvent,
    append_events,
    drop_lease,
    feed_position,
    has_position,
    prune_events,
    take_lease,
)
from hub.store import write_transaction
from schema.events import EVENT_SOURCES, LICENSING, EventKind, HubEvent
from schema.sources import Sources

log = logging.getLogger("simpul.events")

LEASE = "feeds"
CaseRecord = ApplicationRecord | ComplaintRecord
#: called in the batch's transaction with its logged events and their records (notifications)
OnLogged = Callable[[AsyncConnection, Sequence[tuple[HubEvent, CaseRecord]]], Awaitable[None]]


def classify(record: CaseRecord) -> EventKind:
    """What the latest change of a case was, from its history."""
    history = record.history
    if len(history) <= 1:
        return EventKind.CREATED
    if isinstance(record, ComplaintRecord) and record.status is ComplaintStatus.DISPOSED \
            and history[-1].status is ComplaintStatus.DISPOSED and history[-2].status is not record.status:
        return EventKind.ASSIGNED
    if history[-2].status is not history[-1].status:
        return EventKind.STATUS_CHANGED
    return EventKind.UPDATED


@dataclass
class _Feed:
    source: str
    cursor: str | None = None
    known: bool = False  # the cursor was read from the store since the lease was taken
    failures: int = 0
    due: float = 0.0  # time.monotonic() when the feed is read next


@dataclass
class ReaderState:
    """What operators and tests see of the readers."""

    holding: bool = False
    events: int = 0
    batches: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    reads: dict[str, int] = field(default_factory=dict)  # feed requests made, per source
    wakeups: dict[str, int] = field(default_factory=dict)  # `wake(source)` calls, per source
    took_lease_at: float | None = None


class FeedReaders:
    def __init__(
        self,
        store: AsyncEngine,
        sources: Sources,
        *,
        holder: str,
        publish: Callable[[], Awaitable[None]],
        on_logged: OnLogged | None = None,
        lease_seconds: float = 6.0,
        poll_seconds: float = 0.5,
        max_backoff_seconds: float = 30.0,
        batch: int = 500,
        retention: int = 100_000,
    ) -> None:
        self._store = store
        self._sources = sources
        self.holder = holder
        self._publish = publish
        self._on_logged = on_logged
        self._lease_seconds = lease_seconds
        self._poll = poll_seconds
        self._max_backoff = max_backoff_seconds
        self._batch = batch
        self._retention = retention
        self._feeds = {source: _Feed(source) for source in EVENT_SOURCES}
        self._lease_until = 0.0
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.state = ReaderState()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="feed-readers")

    @property
    def positioned(self) -> bool:
        """Whether this instance holds the lease and knows every feed's position (on a
        first start, once it has skipped the sources' history)."""
        return self.state.holding and all(feed.known for feed in self._feeds.values())

    def wake(self, source: str | None = None) -> None:
        """Read `source`'s feed now (every feed: None), a failing one too: its source
        announced a change. Does nothing for an unknown source."""
        feeds = self._feeds.values() if source is None else [f for f in (self._feeds.get(source),) if f]
        for feed in feeds:
            feed.due = 0.0
            self.state.wakeups[feed.source] = self.state.wakeups.get(feed.source, 0) + 1
        self._wake.set()

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_task(task)
        if self.state.holding:  # let another instance take over at once
            with contextlib.suppress(Exception):
                async with write_transaction(self._store) as conn:
                    await drop_lease(conn, LEASE, self.holder)
            self.state.holding = False

    async def _run(self) -> None:
        while True:
            try:
                more = await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:  # the store: keep trying, the lease expires meanwhile
                log.exception("feed readers: the hub store failed; retrying")
                more = False
                self._lost()
                await asyncio.sleep(min(self._poll * 4, self._max_backoff))
            if more:
                continue
            self._wake.clear()  # before the delay is taken from the feeds: no wake-up is lost
            delay = self._delay()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)

    def _delay(self) -> float:
        """Until a feed is due or the lease wants renewing (not holding: trying to take it)."""
        if not self.state.holding:
            return self._lease_seconds / 3
        due = min(feed.due for feed in self._feeds.values())
        return min(due - time.monotonic(), self._lease_seconds / 3)

    async def step(self) -> bool:
        """One round: hold the lease, read each due feed once, publish. True when a feed had more."""
        if not await self._hold():
            return False
        more = False
        for feed in self._feeds.values():
            if feed.due > time.monotonic():
                continue
            try:
                has_more = await self._read(feed)
                feed.failures = 0
                feed.due = time.monotonic() + (0.0 if has_more else self._poll)
                more |= has_more
            except LeaseLost:
                self._lost()
                return False
            except Exception as exc:  # noqa: BLE001  a source down or malformed: back off, the other goes on
                feed.failures += 1
                delay = min(self._max_backoff, self._poll * 2 ** feed.failures)
                feed.due = time.monotonic() + delay
                self.state.errors[feed.source] = self.state.errors.get(feed.source, 0) + 1
                log.warning("feed %s: %s; next try in %.1fs", feed.source, type(exc).__name__, delay,
                            exc_info=log.isEnabledFor(logging.DEBUG))
        await self._publish()
        return more

    async def _hold(self) -> bool:
        now = time.time()
        if self.state.holding and now < self._lease_until - self._lease_seconds * 2 / 3:
            return True
        async with write_transaction(self._store) as conn:
            held = await take_lease(conn, LEASE, self.holder, seconds=self._lease_seconds)
        if held:
            if not self.state.holding:
                log.info("feed readers: %s holds the feeds' lease", self.holder)
                self.state.took_lease_at = time.time()
                for feed in self._feeds.values():
                    feed.known = False  # another holder may have moved the positions
                    feed.due = 0.0  # and read each at once
            self._lease_until = now + self._lease_seconds
            self.state.holding = True
        else:
            self._lost()
        return held

    def _lost(self) -> None:
        if self.state.holding:
            log.info("feed readers: %s no longer holds the feeds' lease", self.holder)
        self.state.holding = False
        self._lease_until = 0.0

    async def _skip_history(self, feed: _Feed, source: LicensingSource | ComplaintSource) -> None:
        cursor = None
        while True:
            batch = await source.changes_since(cursor, 1000)
            cursor = batch.cursor or cursor
            if not batch.has_more:
                break
        async with write_transaction(self._store) as conn:
            if not await take_lease(conn, LEASE, self.holder, seconds=self._lease_seconds):
                raise LeaseLost
            await append_events(conn, feed.source, [], cursor)
        feed.cursor = cursor
        log.info("feed %s: starting at the end of its history (position %s)", feed.source, cursor)

    async def _read(self, feed: _Feed) -> bool:
        source = self._sources.licensing if feed.source == LICENSING else self._sources.complaints
        if not feed.known:
            async with self._store.connect() as conn:
                feed.cursor = await feed_position(conn, feed.source)
                stored = feed.cursor is not None or await has_position(conn, feed.source)
            if not stored:  # first start: the hub's events begin now, not with the source's history
                await self._skip_history(feed, source)
            feed.known = True
        self.state.reads[feed.source] = self.state.reads.get(feed.source, 0) + 1
        batch = await source.changes_since(feed.cursor, self._batch)
        if not batch.changes:
            return False
        keys = list(dict.fromkeys(change.key for change in batch.changes))  # one event per case
        records: dict[str, CaseRecord]
        if feed.source == LICENSING:
            records = dict(await self._sources.licensing.applications_by_number(keys))
        else:
            records = dict(await self._sources.complaints.complaints_by_number(keys))
        latest = {change.key: change.at for change in batch.changes}
        new = [
            NewEvent(source=feed.source, kind=classify(record), number=key, status=record.status.value,
                     at=latest[key])
            for key in keys if (record := records.get(key)) is not None
        ]
        async with write_transaction(self._store) as conn:
            if not await take_lease(conn, LEASE, self.holder, seconds=self._lease_seconds):
                raise LeaseLost
            self._lease_until = time.time() + self._lease_seconds
            logged = await append_events(conn, feed.source, new, batch.cursor)
            if self._on_logged is not None and logged:
                await self._on_logged(conn, [(event, records[event.number]) for event in logged])
            if logged and logged[-1].id % 100 < len(logged):  # now and then
                await prune_events(conn, keep=self._retention)
        feed.cursor = batch.cursor
        self.state.events += len(logged)
        self.state.batches += 1
        return batch.has_more


class LeaseLost(Exception):
    """Another instance holds the feeds' lease now."""


__all__ = ["LEASE", "FeedReaders", "ReaderState", "classify"]
