"""The bus between instances: one Redis stream (`events.stream_key`) that the feed
readers' lease holder fills from the event log and every instance reads.

Each stream entry's id is `<event id>-0`, so the stream's ids are the events' ids:
publishing an event again is refused by Redis (an id must grow) and reading resumes
from any event id. Publishing is a copy: the holder reads the stream's newest id and
adds every logged event after it, so a Redis that restarted empty (or lost its tail)
is filled again from the log, and each instance, reading on from the newest id it
delivered, gets every event once. Entries beyond `events.retention` are trimmed
(approximately, as Redis trims by whole nodes).

While Redis cannot be reached an instance delivers from the log in the store instead
(polled every `fallback_poll_seconds`); both uses report to `hub.redis_health` (an
outage logged once when it starts and once when it ends, `simpul_redis_up{use}`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from hub.background import cancel_task
from hub.events.fanout import EventHub
from hub.events.log import events_after
from hub.redis_health import RedisHealth
from schema.events import HubEvent

log = logging.getLogger("simpul.events")

CHUNK = 500


READING = "the event stream (reading)"
PUBLISHING = "the event stream (publishing)"


def _redis(url: str) -> Any:
    from redis.asyncio import Redis

    return Redis.from_url(url, socket_connect_timeout=1.0, health_check_interval=10)


def _entry_id(event_id: int) -> str:
    return f"{event_id}-0"


def _event_id(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])


class RedisStreamBus:
    def __init__(self, url: str, store: AsyncEngine, hub: EventHub, *, key: str, retention: int,
                 health: RedisHealth | None = None, block_ms: int = 1000,
                 fallback_poll_seconds: float = 1.0) -> None:
        self._url = url
        self._store = store
        self._hub = hub
        self._key = key
        self._retention = retention
        self._block_ms = block_ms
        self._fallback = fallback_poll_seconds
        self._reader_redis: Any = None
        self._writer_redis: Any = None
        self._task: asyncio.Task[None] | None = None
        self.health = health or RedisHealth()
        self.published = 0

    # -- the lease holder ---------------------------------------------------------------

    async def publish(self) -> None:
        """Copy every logged event the stream lacks (called after each round of the readers)."""
        try:
            if self._writer_redis is None:
                self._writer_redis = _redis(self._url)
            redis = self._writer_redis
            newest = await redis.xrevrange(self._key, count=1)
            last = _event_id(newest[0][0]) if newest else 0
            while True:
                async with self._store.connect() as conn:
                    events = await events_after(conn, last, limit=CHUNK)
                if not events:
                    break
                async with redis.pipeline(transaction=False) as pipe:
                    for event in events:
                        pipe.xadd(self._key, event.wire(), id=_entry_id(event.id), maxlen=self._retention,
                                  approximate=True)
                    await pipe.execute()
                last = events[-1].id
                self.published += len(events)
            self.health.succeeded(PUBLISHING)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001  Redis away: the log keeps everything; copied on recovery
            self.health.failed(PUBLISHING, exc, consequence="events wait in the hub store's log")
            await self._close_writer()

    # -- every instance -----------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._consume(), name="events-redis-reader")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_task(task)
        await self._close_reader()
        await self._close_writer()

    async def _consume(self) -> None:
        while True:
            try:
                if self._reader_redis is None:
                    self._reader_redis = _redis(self._url)
                answer = await self._reader_redis.xread({self._key: _entry_id(self._hub.last_id)},
                                                        count=CHUNK, block=self._block_ms)
                self.health.succeeded(READING)
                for _, entries in answer or ():
                    events = [HubEvent.from_wire({k.decode(): v.decode() for k, v in fields.items()})
                              for _, fields in entries]
                    await self._hub.deliver(events)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001  Redis away: deliver from the log meanwhile
                self.health.failed(READING, exc, consequence="events are read from the hub store")
                await self._close_reader()
                with contextlib.suppress(Exception):
                    await self._hub.catch_up()
                await asyncio.sleep(self._fallback)

    async def _close_reader(self) -> None:
        redis, self._reader_redis = self._reader_redis, None
        if redis is not None:
            with contextlib.suppress(Exception):
                await redis.aclose()

    async def _close_writer(self) -> None:
        redis, self._writer_redis = self._writer_redis, None
        if redis is not None:
            with contextlib.suppress(Exception):
                await redis.aclose()


__all__ = ["RedisStreamBus"]
