"""Revoked service accounts, known to every hub instance within seconds.

Tokens are self-contained JWTs, so revoking a client (`hub client revoke`) must reach
the validators of every instance: each instance keeps the revoked client ids in memory
(the check on every request is a set look-up, no store round-trip) and re-reads them
from the hub store every `revocation_poll_seconds`, and at once when a revocation is
announced on the Redis channel (`redis_url`, `revocation_channel`). The store is the
truth: a message only says "read again", so a forged or lost message changes nothing
beyond one early or one later read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from auth.clients import revoked_client_ids
from hub.redis_health import RedisHealth

log = logging.getLogger("simpul.revocation")


class RevokedClients:
    USE = "the revocation channel"

    def __init__(self, engine: AsyncEngine, *, poll_seconds: float, redis_url: str | None = None,
                 channel: str = "simpul:revocations", health: RedisHealth | None = None) -> None:
        self._engine = engine
        self._health = health or RedisHealth()
        self._poll = poll_seconds
        self._redis_url = redis_url
        self._channel = channel
        self._ids: frozenset[str] = frozenset()
        self._task: asyncio.Task[None] | None = None
        self._redis: Any = None  # redis.asyncio.Redis and its PubSub, while subscribed
        self._pubsub: Any = None

    def __call__(self, client_id: str) -> bool:
        """Whether the client is revoked (as of the last read)."""
        return client_id in self._ids

    async def refresh(self) -> None:
        async with self._engine.connect() as conn:
            self._ids = await revoked_client_ids(conn)

    async def start(self) -> None:
        """Read the revoked clients, then keep reading them in the background."""
        await self.refresh()
        self._task = asyncio.create_task(self._watch(), name="revoked-clients")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _watch(self) -> None:
        try:
            while True:
                await self._wait()
                try:
                    await self.refresh()
                except Exception as exc:  # noqa: BLE001 (keep the last known set; retry soon)
                    log.warning("revoked clients could not be read (%s); retrying", type(exc).__name__)
        finally:
            await self._unsubscribe()

    async def _wait(self) -> None:
        """Until a revocation is announced or the poll interval has passed."""
        if self._redis_url is None:
            await asyncio.sleep(self._poll)
            return
        try:
            if self._pubsub is None:
                from redis.asyncio import Redis

                self._redis = Redis.from_url(self._redis_url, socket_connect_timeout=0.5)
                self._pubsub = self._redis.pubsub()
                await self._pubsub.subscribe(self._channel)
            await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=self._poll)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 (Redis down: polling alone still bounds the delay)
            self._health.failed(self.USE, exc, consequence="revocations are read by polling the store")
            await self._unsubscribe()
            await asyncio.sleep(self._poll)
        else:
            self._health.succeeded(self.USE)

    async def _unsubscribe(self) -> None:
        pubsub, redis = self._pubsub, self._redis
        self._pubsub = self._redis = None
        with contextlib.suppress(Exception):
            if pubsub is not None:
                await pubsub.aclose()
            if redis is not None:
                await redis.aclose()


async def announce_revocation(redis_url: str | None, channel: str) -> None:
    """Tell every instance to read the revoked clients now (they would within the poll
    interval anyway)."""
    if redis_url is None:
        return
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        await redis.publish(channel, "revoked")
    except Exception as exc:  # noqa: BLE001
        log.warning("revocation not announced (%s); instances see it within their poll interval",
                    type(exc).__name__)
    finally:
        await redis.aclose()
