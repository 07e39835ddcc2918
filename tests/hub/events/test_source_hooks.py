"""Sources' webhooks (issue 25): a signed POST to /hooks/sources/{source} is a wake-up,
not the data. With `poll_seconds` at 60, a change reaches the event log within a second
of a valid webhook and not at all without one; anything not signed with the source's
secret is refused and reads nothing; repeated webhooks repeat no event; a webhook to an
instance without the lease reaches the holder over Redis; and sample sources that push
bring their changes in without any poll delay."""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook
from starlette.testclient import TestClient

from hub.app import create_app
from hub.demo import DemoSources, demo_settings, start_demo_sources
from hub.settings import (
    ConfigError,
    EventSettings,
    LimitSettings,
    PublicLimitSettings,
    RateLimitSettings,
    Settings,
)
from tests.hub.events.support import driver, residents, wait_until
from tests.hub.test_redis_outage import metric
from tests.support.browser import serving

SECRET = "whsec_" + "c2ltcHVsLXRlc3Qtc2VjcmV0LWNvbXBsYWludHMtMzI="  # 32 bytes
OTHER = "whsec_" + "b3RoZXItc2VjcmV0LW9mLWV4YWN0bHktMzItYnl0ZXM="
HOOK = "/hooks/sources/complaints"
BODY = b'{"type":"feed.changed","source":"complaints","position":"1"}'
LONG_POLL = {"poll_seconds": 60, "lease_seconds": 6}


def signed(body: bytes = BODY, *, secret: str = SECRET, at: datetime | None = None,
           message_id: str | None = None) -> dict[str, str]:
    at = at or datetime.now(timezone.utc)
    message_id = message_id or f"chg_{uuid.uuid4().hex}"
    return {"content-type": "application/json", "webhook-id": message_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, at, body)}


def hooked(settings: Settings, **events: object) -> Settings:
    return settings.model_copy(update={"events": EventSettings(
        **{**LONG_POLL, "webhook_secrets": {"complaints": SECRET}, **events})})  # type: ignore[arg-type]


def logged(store: Path, number: str) -> list[tuple[int, float]]:
    """(id, logged at) of the store's events about `number`."""
    with sqlite3.connect(store) as db:
        return db.execute("SELECT id, logged FROM hub_events WHERE number = ? ORDER BY id", (number,)).fetchall()


def store_of(settings: Settings) -> Path:
    path = settings.sqlite_store_file
    assert path is not None
    return path


@pytest.fixture
def hub(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(hooked(settings))) as client:
        wait_until(lambda: client.app.state.events.readers.positioned)
        yield client


def test_a_valid_webhook_brings_a_change_in_at_once_and_without_it_nothing_comes(hub, sources, stack, settings):
    (nik, kel) = residents(stack)[0]
    number = sources.submit_complaint(nik=nik, kelurahan=kel)
    time.sleep(1.5)
    assert logged(store_of(settings), number) == []  # polled every 60 s: not read yet
    sent = time.time()
    assert hub.post(HOOK, content=BODY, headers=signed()).status_code == 204
    wait_until(lambda: logged(store_of(settings), number), timeout=1.0)
    ((_, at),) = logged(store_of(settings), number)
    assert at - sent < 1.0
    readers = hub.app.state.events.readers.state
    assert readers.wakeups == {"complaints": 1}
    assert metric(hub, "simpul_source_webhooks_total", source="complaints", outcome="accepted") == 1


def _stale() -> dict[str, str]:
    return signed(at=datetime.now(timezone.utc) - timedelta(minutes=6))


REFUSED = [
    pytest.param(HOOK, lambda: {}, BODY, 401, "BAD_SIGNATURE", id="no-headers"),
    pytest.param(HOOK, lambda: {k: v for k, v in signed().items() if k != "webhook-signature"}, BODY, 401,
                 "BAD_SIGNATURE", id="no-signature"),
    pytest.param(HOOK, lambda: {**signed(), "webhook-signature": "v1,AAAA"}, BODY, 401, "BAD_SIGNATURE",
                 id="bad-signature"),
    pytest.param(HOOK, lambda: signed(secret=OTHER), BODY, 401, "BAD_SIGNATURE", id="wrong-secret"),
    pytest.param(HOOK, lambda: signed(b"{}"), BODY, 401, "BAD_SIGNATURE", id="another-body"),
    pytest.param(HOOK, _stale, BODY, 401, "BAD_SIGNATURE", id="stale-timestamp"),
    pytest.param(HOOK, lambda: {**signed(), "webhook-timestamp": "1e999"}, BODY, 401, "BAD_SIGNATURE",
                 id="absurd-timestamp"),
    pytest.param("/hooks/sources/licensing", signed, BODY, 404, "NOT_FOUND", id="no-secret-configured"),
    pytest.param("/hooks/sources/population", signed, BODY, 404, "NOT_FOUND", id="no-change-feed"),
    pytest.param("/hooks/sources/nope", signed, BODY, 404, "NOT_FOUND", id="unknown-source"),
    pytest.param(HOOK, lambda: signed(b"x" * 5000), b"x" * 5000, 413, "PAYLOAD_TOO_LARGE", id="oversized"),
]


@pytest.mark.parametrize(("path", "headers", "body", "status", "code"), REFUSED)
def test_what_is_not_signed_for_the_source_is_refused_and_reads_nothing(hub, path, headers, body, status, code):
    readers = hub.app.state.events.readers.state
    reads = dict(readers.reads)
    answer = hub.post(path, content=body, headers=headers())
    assert answer.status_code == status, answer.text
    assert answer.json()["errors"][0]["extensions"]["code"] == code
    time.sleep(0.3)
    assert readers.reads == reads and readers.wakeups == {}
    if status == 404:  # the answer of any unknown path: no oracle on which sources exist
        assert answer.json()["errors"][0]["message"] == f"No such path: {path}"
    # and a valid webhook does read (the assertions above could fail)
    assert hub.post(HOOK, content=BODY, headers=signed()).status_code == 204
    wait_until(lambda: readers.reads.get("complaints", 0) > reads.get("complaints", 0), timeout=2)
    assert readers.reads.get("licensing") == reads.get("licensing")  # only the source named


def test_refusals_are_counted_by_source_and_outcome(hub):
    hub.post(HOOK, content=BODY, headers=signed(secret=OTHER))
    hub.post("/hooks/sources/licensing", content=BODY, headers=signed())
    hub.post("/hooks/sources/" + "x" * 50, content=BODY, headers=signed())
    assert metric(hub, "simpul_source_webhooks_total", source="complaints", outcome="bad_signature") == 1
    assert metric(hub, "simpul_source_webhooks_total", source="licensing", outcome="unknown") == 1
    assert metric(hub, "simpul_source_webhooks_total", source="other", outcome="unknown") == 1  # no label at will


def test_repeated_and_replayed_webhooks_repeat_no_event(hub, sources, stack, settings):
    (nik, kel) = residents(stack)[0]
    number = sources.submit_complaint(nik=nik, kelurahan=kel)
    headers = signed()
    with ThreadPoolExecutor(4) as pool:  # the same webhook, at once and again
        statuses = list(pool.map(lambda _: hub.post(HOOK, content=BODY, headers=headers).status_code, range(8)))
    assert statuses == [204] * 8
    for _ in range(3):  # and others, later
        assert hub.post(HOOK, content=BODY, headers=signed()).status_code == 204
    wait_until(lambda: logged(store_of(settings), number), timeout=2)
    time.sleep(0.5)
    assert len(logged(store_of(settings), number)) == 1
    sources.move_complaint(number, "TERVERIFIKASI")  # the next change is the next event, once
    assert hub.post(HOOK, content=BODY, headers=headers).status_code == 204  # a replay of the first
    wait_until(lambda: len(logged(store_of(settings), number)) == 2, timeout=2)
    time.sleep(0.5)
    assert len(logged(store_of(settings), number)) == 2


def test_the_rate_limit_holds_per_address(settings):
    limits = RateLimitSettings(public=PublicLimitSettings(source_hook=LimitSettings(requests=3, window_seconds=60)))
    limited = hooked(settings).model_copy(update={"rate_limits": limits})
    with TestClient(create_app(limited)) as client:
        statuses = [client.post(HOOK, content=BODY, headers=signed(secret=OTHER)).status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]


@pytest.mark.parametrize("secrets", [
    pytest.param({"population": SECRET}, id="a-source-without-a-feed"),
    pytest.param({"complaints": "whsec_c2hvcnQ="}, id="too-short"),
    pytest.param({"complaints": "c2ltcHVsLXRlc3Qtc2VjcmV0LWNvbXBsYWludHMtMzI="}, id="no-prefix"),
    pytest.param({"complaints": "whsec_not base64!"}, id="not-base64"),
])
def test_a_bad_secret_stops_the_start_without_printing_it(settings, secrets):
    with pytest.raises(ConfigError) as refused:
        create_app(settings.model_copy(update={"events": EventSettings(webhook_secrets=secrets)}))
    assert "webhook_secrets" in str(refused.value)
    assert all(value.removeprefix("whsec_")[:8] not in str(refused.value) for value in secrets.values())


def test_a_webhook_to_an_instance_without_the_lease_wakes_the_holder_over_redis(settings, sources, stack):
    (nik, kel) = residents(stack)[0]
    prefix = f"t:{uuid.uuid4().hex[:8]}"
    shared = {"redis_url": "redis://127.0.0.1:6379/0"}
    holder = settings.model_copy(update={**shared, "events": EventSettings(
        **LONG_POLL, webhook_secrets={"complaints": SECRET}, stream_key=f"{prefix}:events",
        wake_channel=f"{prefix}:wake")})
    other = holder.model_copy(update={"events": holder.events.model_copy(update={"read_feeds": False})})
    with TestClient(create_app(holder)) as a, TestClient(create_app(other)) as b:
        wait_until(lambda: a.app.state.events.readers.positioned and a.app.state.events.wake_channel.listening.is_set())
        number = sources.submit_complaint(nik=nik, kelurahan=kel)
        sent = time.time()
        assert b.post(HOOK, content=BODY, headers=signed()).status_code == 204
        wait_until(lambda: logged(store_of(settings), number), timeout=1.5)
        assert logged(store_of(settings), number)[0][1] - sent < 1.5
        assert a.app.state.events.readers.state.wakeups == {"complaints": 1}
        assert not b.app.state.events.readers.state.holding


# --- sample sources that push --------------------------------------------------------


@pytest.fixture(scope="module")
def pushing(stack: DemoSources, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoSources, socket.socket]]:
    """The sample sources on a copy of the session's data, pushing to a hub port taken now."""
    data_dir = tmp_path_factory.mktemp("pushing")
    shutil.copytree(stack.data_dir, data_dir, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("hub.db*", "*.jsonl", "hub.toml"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    running = start_demo_sources(data_dir, hub_url=f"http://127.0.0.1:{sock.getsockname()[1]}")
    try:
        yield running, sock
    finally:
        running.stop()


def test_sample_sources_that_push_bring_changes_in_without_poll_delay(pushing, tmp_path):
    stack, sock = pushing
    settings = demo_settings(stack, store_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    assert set(settings.events.webhook_secrets) == {"licensing", "complaints"}  # `hub demo` configures both sides
    settings = settings.model_copy(update={"events": settings.events.model_copy(update=LONG_POLL)})
    app = create_app(settings)
    (nik, kel) = residents(stack)[0]
    with serving(app, sock), driver(stack) as sources:
        wait_until(lambda: app.state.events.readers.positioned)
        delays = []
        for _ in range(5):
            number = sources.submit_complaint(nik=nik, kelurahan=kel)
            changed = time.time()
            wait_until(lambda: logged(tmp_path / "hub.db", number), timeout=1.0)  # noqa: B023
            delays.append(logged(tmp_path / "hub.db", number)[0][1] - changed)
        application = sources.cyclable_application()["no_permohonan"]
        sources.move_application(application)
        wait_until(lambda: logged(tmp_path / "hub.db", application), timeout=1.0)
        readers = app.state.events.readers.state
    assert readers.wakeups["complaints"] >= 5 and readers.wakeups["licensing"] >= 1
    print(f"source change → event logged, pushed (poll 60 s): {json.dumps(sorted(round(d * 1000) for d in delays))} ms")


def test_a_pushing_source_answers_its_own_requests_while_the_hub_is_down(pushing):
    stack, _ = pushing  # the hub's port is taken but nobody serves it
    (nik, kel) = residents(stack)[0]
    with driver(stack) as sources:
        started = time.monotonic()
        numbers = [sources.submit_complaint(nik=nik, kelurahan=kel) for _ in range(3)]
        took = time.monotonic() - started
    assert len(set(numbers)) == 3 and took < 3.0
    answer = httpx.get(stack.url_of("complaints") + "/health", timeout=5)
    assert answer.status_code == 200
