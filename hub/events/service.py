"""The events of one hub instance: readers (active only while this instance holds the
feeds' lease), the local fan-out, and the bus: the Redis stream with `redis_url`;
without it, the hub store's event log, which the lease holder delivers from at once and
every other instance (`hub serve --workers N`, instances on one PostgreSQL store)
follows every `events.poll_seconds`."""

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
        await self.readers.stop()
        task, self._follower = self._follower, None
        await cancel_task(task)
        if self.bus is not None:
            await self.bus.stop()
