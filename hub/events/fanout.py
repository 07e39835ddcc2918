"""Every instance's side of the bus: the events it receives (from the log in one
process, from the Redis stream between instances) reach each local subscriber once, in
id order, with the case read once per instance from its source.

A subscriber that resumes (`after`) first replays the log from that id, then takes the
live events, skipping any it already had: it is registered before the replay starts,
and an event is in the log before it is published, so none falls in between.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.errors import ConnectorError
from hub.events.log import events_after, log_bounds
from schema.events import (
    LICENSING,
    Delivery,
    EventsExpired,
    HubEvent,
    SubscriberTooSlow,
)
from schema.sources import Sources

log = logging.getLogger("simpul.events")

REPLAY_CHUNK = 500

T = TypeVar("T")


class SubscriberQueue(Generic[T]):
    """What one subscriber has yet to take; past `limit` it overflows, and its next
    `take` raises `SubscriberTooSlow` (the others go on)."""

    __slots__ = ("limit", "overflowed", "pending", "ready")

    def __init__(self, limit: int) -> None:
        self.pending: deque[T] = deque()
        self.ready = asyncio.Event()
        self.limit = limit
        self.overflowed = False

    def offer(self, items: Sequence[T]) -> None:
        if len(self.pending) + len(items) > self.limit:
            self.overflowed = True
        else:
            self.pending.extend(items)
        self.ready.set()

    async def take(self) -> list[T]:
        await self.ready.wait()
        self.ready.clear()
        if self.overflowed:
            raise SubscriberTooSlow("the subscriber fell behind; resume with `after`")
        taken = list(self.pending)
        self.pending.clear()
        return taken


class EventHub:
    """The local fan-out (implements schema.events.EventStream)."""

    def __init__(self, store: AsyncEngine, sources: Sources, *, queue_limit: int = 1000,
                 before_changed: Callable[[], Awaitable[object]] | None = None) -> None:
        self._store = store
        self._sources = sources
        self._queue_limit = queue_limit
        self._subscribers: set[SubscriberQueue[Delivery]] = set()
        # `changed()` listeners (aggregates) hear of events once `before_changed` (the
        # metrics view's refresh) has run; one refresh at a time, a second one queued
        self._before_changed = before_changed
        self._change_listeners: set[SubscriberQueue[None]] = set()
        self._changing: asyncio.Task[None] | None = None
        self._change_again = False
        self.last_id = 0  # the newest event delivered here
        self.delivered = 0  # events delivered (not counting subscribers)
        self.started = False

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    async def start(self) -> None:
        """Live delivery starts after the newest event logged so far."""
        async with self._store.connect() as conn:
            _, self.last_id = await log_bounds(conn)
        self.started = True

    async def deliver(self, events: Sequence[HubEvent]) -> None:
        """Hand `events` (in id order) to the subscribers; ids delivered before are skipped."""
        fresh = [event for event in events if event.id > self.last_id]
        if not fresh:
            return
        self.last_id = fresh[-1].id
        deliveries = await self.with_records(fresh)
        self.delivered += len(deliveries)
        for subscriber in list(self._subscribers):
            subscriber.offer(deliveries)
        if self._change_listeners:
            self._announce_change()

    def _announce_change(self) -> None:
        if self._changing is not None and not self._changing.done():
            self._change_again = True
            return
        self._changing = asyncio.create_task(self._change(), name="events-changed")

    async def _change(self) -> None:
        while True:
            self._change_again = False
            if self._before_changed is not None:
                try:
                    await self._before_changed()
                except Exception:  # noqa: BLE001  listeners still hear of the change
                    log.exception("events: refreshing before announcing a change failed")
            for listener in list(self._change_listeners):
                listener.offer(())
            if not self._change_again:
                return

    async def catch_up(self) -> None:
        """Deliver what the log holds beyond the newest delivered event (the in-process
        bus, and the fallback while Redis is away)."""
        while True:
            async with self._store.connect() as conn:
                events = await events_after(conn, self.last_id, limit=REPLAY_CHUNK)
            if not events:
                return
            await self.deliver(events)

    async def with_records(self, events: Sequence[HubEvent]) -> list[Delivery]:
        """The events with their cases as the sources hold them now: one batch look-up per source."""
        wanted: dict[str, list[str]] = {}
        for event in events:
            wanted.setdefault(event.source, []).append(event.number)
        found: dict[tuple[str, str], object] = {}
        for source, numbers in wanted.items():
            unique = list(dict.fromkeys(numbers))
            try:
                if source == LICENSING:
                    records: dict[str, object] = dict(await self._sources.licensing.applications_by_number(unique))
                else:
                    records = dict(await self._sources.complaints.complaints_by_number(unique))
            except ConnectorError as exc:
                log.warning("events: %s could not be read (%s); its events carry no record", source, exc.code)
                continue
            for number, record in records.items():
                found[(source, number)] = record
        return [Delivery(event, found.get((event.source, event.number))) for event in events]  # type: ignore[arg-type]

    async def subscribe(self, *, after: int | None = None) -> AsyncIterator[Delivery]:
        subscriber = SubscriberQueue[Delivery](self._queue_limit)
        self._subscribers.add(subscriber)
        try:
            last = self.last_id if after is None else after
            if after is not None:
                async for delivery in self._replay(after):
                    last = delivery.event.id
                    yield delivery
            while True:
                for delivery in await subscriber.take():
                    if delivery.event.id > last:
                        last = delivery.event.id
                        yield delivery
        finally:
            self._subscribers.discard(subscriber)

    def replay(self, after: int) -> AsyncIterator[Delivery]:
        """The retained events after `after`, up to the newest logged (a live group's
        member resuming replays them itself before it takes over: hub.events.groups)."""
        return self._replay(after)

    async def _replay(self, after: int) -> AsyncIterator[Delivery]:
        async with self._store.connect() as conn:
            low, _ = await log_bounds(conn)
        if low > after + 1:
            raise EventsExpired(low)
        last = after
        while True:
            async with self._store.connect() as conn:
                events = await events_after(conn, last, limit=REPLAY_CHUNK)
            if not events:
                return
            for delivery in await self.with_records(events):
                last = delivery.event.id
                yield delivery

    async def changed(self) -> AsyncIterator[None]:
        listener = SubscriberQueue[None](limit=1)
        self._change_listeners.add(listener)
        try:
            while True:
                await listener.take()
                yield None
        finally:
            self._change_listeners.discard(listener)


__all__ = ["EventHub", "SubscriberQueue"]
