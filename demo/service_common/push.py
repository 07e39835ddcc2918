"""Pushing: after a change is committed, a signed Standard Webhook tells the hub that the
change feed moved (`--webhook-url`, `--webhook-secret`).

    POST <url>   {"type": "feed.changed", "source": "complaints", "position": "1234"}
    webhook-id: chg_<source>_<position>   webhook-timestamp: <unix seconds>
    webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body" under the secret>

It is a wake-up, not the data: the hub reads the feed itself. So pushing is best effort
and never in the way of the service's own requests: a write only sets a flag; one
background task reads the feed's newest position and posts it (a burst of writes is one
webhook), with a short timeout and a couple of retries, then gives up (the hub polls).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone

import httpx
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks import Webhook
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("demo.push")

READS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class FeedPush:
    """Where and how to push: the hub's URL for this source, its `whsec_` secret, the
    source's id in the hub (`licensing`, `complaints`)."""

    url: str
    secret: str
    source: str
    timeout: float = 2.0
    retries: int = 2
    backoff: float = 0.2


class FeedPusher:
    def __init__(self, push: FeedPush, feed: Table) -> None:
        self.push = push
        self._webhook = Webhook(push.secret)
        self._feed = feed
        self._moved = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.sent = 0  # webhooks the hub accepted (2xx)
        self.failed = 0  # positions given up on

    def start(self, engine: AsyncEngine) -> None:
        self._task = asyncio.create_task(self._run(engine), name="feed-push")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def changed(self) -> None:
        """A write was committed: push soon (never waits)."""
        self._moved.set()

    async def _run(self, engine: AsyncEngine) -> None:
        pushed = 0
        async with httpx.AsyncClient(timeout=self.push.timeout) as client:
            while True:
                await self._moved.wait()
                self._moved.clear()
                try:
                    async with engine.connect() as conn:
                        position = (await conn.execute(select(func.max(self._feed.c.id)))).scalar() or 0
                except Exception as exc:  # noqa: BLE001  the next write tries again
                    log.warning("push: the feed's position could not be read (%s)", type(exc).__name__)
                    continue
                if position > pushed:
                    await self._send(client, position)
                    pushed = position

    async def _send(self, client: httpx.AsyncClient, position: int) -> None:
        push = self.push
        body = json.dumps({"type": "feed.changed", "source": push.source, "position": str(position)})
        message_id = f"chg_{push.source}_{position}"
        for attempt in range(push.retries + 1):
            if attempt:
                await asyncio.sleep(push.backoff * 2 ** (attempt - 1))
            now = datetime.now(timezone.utc)  # signed afresh: a retry is not stale
            headers = {"content-type": "application/json", "webhook-id": message_id,
                       "webhook-timestamp": str(int(now.timestamp())),
                       "webhook-signature": self._webhook.sign(message_id, now, body)}
            try:
                answer = await client.post(push.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                reason = type(exc).__name__
            else:
                if answer.is_success:
                    self.sent += 1
                    return
                reason = f"HTTP {answer.status_code}"
                if answer.status_code < 500 and answer.status_code != 429:
                    break  # refused (signature, unknown source): retrying cannot help
        self.failed += 1
        log.warning("push of %s position %s to the hub failed (%s); the hub reads it when it polls",
                    push.source, position, reason)


class PushAfterWrites:
    """Calls `pusher.changed()` after every successful write request to `/api/`, once
    its answer is sent (so after its transaction committed)."""

    def __init__(self, app: ASGIApp, *, pusher: FeedPusher) -> None:
        self.app = app
        self.pusher = pusher

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in READS or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        status = 500

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, recording)
        if status < 400:
            self.pusher.changed()
