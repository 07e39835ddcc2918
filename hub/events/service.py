"""The events of one hub instance: readers (active only while this instance holds the
feeds' lease), the local fan-out, and the bus: the Redis stream with `redis_url`;
without it, the hub store's event log, which the lease holder delivers from at once and
every other instance (`hub serve --workers N`, instances on one PostgreSQL store)
follows every `events.poll_seconds`; and the wake-ups of sources' webhooks, passed to
the lease holder (over Redis when another instance holds it: hub.events.wakeups)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from hub.background import cancel_task
from hub.events.fanout import EventHub
from hub.events.reader import FeedReaders, OnLogged
from hub.events.redis_stream import RedisStreamBus
from hub.events.wakeups import WakeChannel
from hub.redis_health import RedisHealth
from hub.settings import EventSettings
from schema.sources import Sources


log = logging.getLogger("simpul.events")


def instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class EventService:
    def __init__(self, settings: EventSettings, *, store: AsyncEngine, sources: Sources, redis_url: str | None,
                 on_logged: OnLogged | None = None,
                 before_changed: Callable[[], Awaitable[object]] | None = None,
                 redis_health: RedisHealth | None = None) -> None:
        self.settings = settings
        self.hub = EventHub(store, sources, queue_limit=settings.subscriber_queue, before_changed=before_changed)
        self.bus = (RedisStreamBus(redis_url, store, self.hub, key=settings.stream_key, retention=settings.retention,
                                   health=redis_health) if redis_url else None)
        self._follower: asyncio.Task[None] | None = None
        self.readers = FeedReaders(
            store, sources, holder=instance_name(), publish=self._publish, on_logged=on_logged,
            lease_seconds=settings.lease_seconds, poll_seconds=settings.poll_seconds,
            max_backoff_seconds=settings.max_backoff_seconds, batch=settings.batch, retention=settings.retention,
        )
        self.wake_channel = (WakeChannel(redis_url, channel=settings.wake_channel, on_wake=self._woken,
                                         health=redis_health) if redis_url else None)

    async def wake(self, source: str) -> None:
        """A source announced a change (its webhook): the lease holder reads its feed now.
        Here if this instance holds the lease; else over Redis; without Redis the
        holder's polling reads it within `events.poll_seconds`."""
        if self.readers.state.holding:
            self.readers.wake(source)
        elif self.wake_channel is not None:
            await self.wake_channel.announce(source)

    def _woken(self, source: str) -> None:
        if self.readers.state.holding:  # another instance passed a webhook on
            self.readers.wake(source)

    async def _publish(self) -> None:
        if self.bus is not None:
            await self.bus.publish()
        else:
            await self.hub.catch_up()

    async def start(self) -> None:
        await self.hub.start()
        if self.bus is not None:
            self.bus.start()
        else:
            self._follower = asyncio.create_task(self._follow_log(), name="events-log-follower")
        if self.settings.read_feeds:
            self.readers.start()
            if self.wake_channel is not None:
                self.wake_channel.start()

    async def _follow_log(self) -> None:
        while True:
            await asyncio.sleep(self.settings.poll_seconds)
            if self.readers.state.holding:
                continue  # the holder delivers as it logs
            try:
                await self.hub.catch_up()
            except asyncio.CancelledError:
                raise
            except Exception:  # the store: the next round tries again
                log.exception("events: the event log could not be read")

    async def stop(self) -> None:
        if self.wake_channel is not None:
            await self.wake_channel.stop()
        await self.readers.stop()
        task, self._follower = self._follower, None
        await cancel_task(task)
        if self.bus is not None:
            await self.bus.stop()
