"""Wake-ups between instances: a source's webhook may reach any instance, but only the
holder of the feeds' lease reads the feeds, so the others pass it on over a Redis
channel (`events.wake_channel`, with `redis_url`).

A message is only the source's id and only says "read this feed now": the feed and its
stored position decide what is an event, so a lost message costs one poll interval and
a forged or repeated one an early read, nothing more (as on the revocation channel,
hub.revocation).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from hub.background import cancel_task
from hub.redis_health import RedisHealth
from schema.events import EVENT_SOURCES

log = logging.getLogger("simpul.events")


class WakeChannel:
    """Listens on the channel (calling `on_wake(source)` for each known source named)
    and announces on it."""

    USE = "the feeds' wake-up channel"

    def __init__(self, redis_url: str, *, channel: str, on_wake: Callable[[str], None],
                 health: RedisHealth | None = None, retry_seconds: float = 1.0) -> None:
        self._url = redis_url
        self._channel = channel
        self._on_wake = on_wake
        self._health = health or RedisHealth()
        self._retry = retry_seconds
        self._task: asyncio.Task[None] | None = None
        self._publisher: Any = None  # redis.asyncio.Redis, made on the first announcement
        self.listening = asyncio.Event()  # set while subscribed (tests, operators)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._listen(), name="feeds-wake-channel")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_task(task)
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            with contextlib.suppress(Exception):
                await publisher.aclose()

    async def announce(self, source: str) -> None:
        """Tell the lease holder, wherever it runs, to read `source`'s feed now. A failure
        is logged and counted, never raised: polling catches up anyway."""
        from redis.asyncio import Redis

        try:
            if self._publisher is None:
                self._publisher = Redis.from_url(self._url, socket_connect_timeout=0.5, socket_timeout=0.5)
            await self._publisher.publish(self._channel, source)
        except Exception as exc:  # noqa: BLE001
            self._health.failed(self.USE, exc, consequence="webhooks reach the feeds' reader by its polling only")
        else:
            self._health.succeeded(self.USE)

    async def _listen(self) -> None:
        from redis.asyncio import Redis

        while True:
            redis = Redis.from_url(self._url, socket_connect_timeout=0.5)
            pubsub = redis.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                self.listening.set()
                self._health.succeeded(self.USE)
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0)
                    if message is not None and message.get("type") == "message":
                        self._heard(message.get("data"))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001  Redis gone: subscribe again after a pause
                self._health.failed(self.USE, exc, consequence="webhooks reach the feeds' reader by its polling only")
            finally:
                self.listening.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                with contextlib.suppress(Exception):
                    await redis.aclose()
            await asyncio.sleep(self._retry)

    def _heard(self, data: object) -> None:
        source = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
        if source in EVENT_SOURCES:
            self._on_wake(source)
