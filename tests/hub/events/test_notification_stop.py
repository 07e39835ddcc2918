"""Stopping the notification sender lets the round in progress finish: a message whose
post is under way when the hub stops is recorded as delivered, not cut off half-written
(a cancelled store write could also leave a connection that never closes)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy import insert, select

from hub.notifications.outbox import DELIVERED, PENDING, new_webhook_id, outbox_table
from hub.notifications.sender import NotificationSender
from hub.settings import NotificationSettings
from hub.store import create_store_engine, create_tables

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


async def _stop_during_a_post(tmp_path: Path, post_seconds: float, timeout: float) -> tuple[str, float]:
    engine = create_store_engine(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    await create_tables(engine)
    async with engine.begin() as conn:
        now = time.time()
        await conn.execute(insert(outbox_table).values(
            webhook_id=new_webhook_id(), event_id=1, recipient_nik="1471010101900001", case_number="ADU-1",
            body="{}", state=PENDING, attempts=0, next_attempt=now, created=now))
    posting = asyncio.Event()

    async def gateway(request: httpx.Request) -> httpx.Response:
        posting.set()
        await asyncio.sleep(post_seconds)
        return httpx.Response(204)

    settings = NotificationSettings(url="http://gateway.test/webhook", secret=SecretStr(SECRET),
                                    timeout_seconds=timeout, poll_seconds=0.05)
    sender = NotificationSender(settings, engine, active=lambda: True, ledger=None,
                                transport=httpx.MockTransport(gateway))
    sender.start()
    await asyncio.wait_for(posting.wait(), 10)
    started = time.monotonic()
    await sender.stop()
    took = time.monotonic() - started
    async with engine.connect() as conn:
        state = (await conn.execute(select(outbox_table.c.state))).scalar_one()
    await engine.dispose()
    return state, took


def test_a_post_under_way_at_stop_is_finished_and_recorded(tmp_path: Path) -> None:
    state, took = asyncio.run(_stop_during_a_post(tmp_path, post_seconds=0.3, timeout=5))
    assert state == DELIVERED
    assert took >= 0.2  # it waited for the post


def test_a_post_that_hangs_is_cut_off_after_the_timeout_and_a_margin(tmp_path: Path) -> None:
    state, took = asyncio.run(_stop_during_a_post(tmp_path, post_seconds=60, timeout=0.5))
    assert state == PENDING  # not sent: retried by the next start
    assert took < 10
