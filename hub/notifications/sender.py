"""Delivering the outbox to the notification gateway as Standard Webhooks.

Each message is POSTed with `webhook-id` (its outbox row's `webhook_id`, `msg_` + a
random UUID's hex, the same on every attempt and unique across hubs, so the gateway can
drop a repeat and only a repeat), `webhook-timestamp` and
`webhook-signature` (`v1,` + base64 HMAC-SHA256 over `id.timestamp.body` with the
gateway's secret; the `standardwebhooks` package signs and verifies). A 2xx answer
delivers it; anything else (an error status, a timeout, no connection) is retried
after `backoff_seconds`, doubling up to `max_backoff_seconds`, and after
`max_attempts` the message is marked failed. One instance sends: the holder of the
feeds' lease (`active`), so a message is not sent twice by two instances at once.

Each message tells the gateway a citizen's NIK and case: every attempt gets one access
ledger entry (subject `notification-gateway`, purpose `self-service`, request id the
webhook id, to match the gateway's log), durable before the message is sent (nothing is
sent while the ledger cannot be written), so the citizen sees it in `myAccessLog`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timezone

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks import Webhook

from auth.ledger import LedgerDraft
from hub.background import cancel_task
from hub.metrics import HubMetrics
from hub.notifications.outbox import (
    OutboxMessage,
    due_messages,
    mark_delivered,
    mark_failed_attempt,
    outbox_counts,
)
from hub.settings import NotificationSettings
from schema.ledger_writes import LedgerWriter

log = logging.getLogger("simpul.notifications")

GATEWAY_SUBJECT = "notification-gateway"


def signed_headers(webhook: Webhook, message_id: str, body: bytes, now: datetime | None = None) -> dict[str, str]:
    now = now or datetime.now(timezone.utc)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": webhook.sign(message_id, now, body),
        "content-type": "application/json",
    }


class NotificationSender:
    def __init__(self, settings: NotificationSettings, store: AsyncEngine, *, active: Callable[[], bool],
                 ledger: LedgerWriter | None, metrics: HubMetrics | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        if settings.url is None or settings.secret is None:
            raise ValueError("notifications need both url and secret")
        self._settings = settings
        self._store = store
        self._active = active
        self._ledger = ledger
        self._metrics = metrics
        self._webhook = Webhook(settings.secret.get_secret_value())
        self._client = httpx.AsyncClient(timeout=settings.timeout_seconds, transport=transport)
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.sent = 0
        self.failed_attempts = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="notification-sender")

    async def stop(self) -> None:
        """Let the round in progress finish (its posts and the outbox writes that record
        them), then stop. A round cut off by cancellation could leave a store write half
        done (and an aiosqlite connection that never closes, holding up shutdown); it is
        cancelled only past the post timeout and a margin."""
        task, self._task = self._task, None
        self._stopping.set()
        if task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), self._settings.timeout_seconds + 2)
        await cancel_task(task)
        await self._client.aclose()

    async def _run(self) -> None:
        rounds = 0
        while not self._stopping.is_set():
            try:
                if self._active():
                    await self.send_due()
                if self._metrics is not None and rounds % 10 == 0:  # what operators see at /metrics
                    for state, count in (await outbox_counts(self._store)).items():
                        self._metrics.notifications.labels(state).set(count)
                rounds += 1
            except asyncio.CancelledError:
                raise
            except Exception:  # the store: try again next round
                log.exception("notifications: the outbox could not be read")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._settings.poll_seconds)

    async def send_due(self) -> int:
        """Send every message due now; returns how many were delivered."""
        messages = await due_messages(self._store)
        if not messages:
            return 0
        try:
            await self._ledger_entries(messages)  # durable before the NIKs leave (fail closed)
        except Exception:
            log.exception("notifications: the access ledger could not be written; nothing sent, retrying")
            return 0
        results = await asyncio.gather(*(self._send(m) for m in messages))
        return sum(results)

    async def _send(self, message: OutboxMessage) -> bool:
        body = message.body.encode()
        headers = signed_headers(self._webhook, message.webhook_id, body)
        try:
            answer = await self._client.post(self._settings.url or "", content=body, headers=headers)
            error = None if 200 <= answer.status_code < 300 else f"HTTP {answer.status_code}"
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        if self._metrics is not None:
            self._metrics.notification_attempts.labels("delivered" if error is None else "failed").inc()
        if error is None:
            await mark_delivered(self._store, message.id)
            self.sent += 1
            return True
        attempts = message.attempts + 1
        retry_in = None if attempts >= self._settings.max_attempts else min(
            self._settings.max_backoff_seconds, self._settings.backoff_seconds * 2 ** (attempts - 1))
        await mark_failed_attempt(self._store, message.id, error=error, retry_in=retry_in)
        self.failed_attempts += 1
        log.warning("notification %s: attempt %d failed (%s)%s", message.webhook_id, attempts, error,
                    "; giving up" if retry_in is None else f"; retrying in {retry_in:.0f}s")
        return False

    async def _ledger_entries(self, messages: Sequence[OutboxMessage]) -> None:
        if self._ledger is None or not messages:
            return
        drafts = [LedgerDraft(
            request_id=m.webhook_id, subject=GATEWAY_SUBJECT, roles=("notification",), purpose="self-service",
            document_hash=hashlib.sha256(m.body.encode()).hexdigest(), record_type="Citizen", record_key=m.recipient_nik, fields=("nik",),
            detail=f"notification about {m.case_number}", operation_name="notification",
        ) for m in messages]
        await self._ledger(drafts)


__all__ = ["GATEWAY_SUBJECT", "NotificationSender", "signed_headers"]
