"""Several instances through one Redis: an event read on one reaches subscribers on
another; a Redis restart mid-stream loses nothing and repeats nothing; when the
instance holding the feeds' lease dies, another takes over within seconds."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from starlette.testclient import TestClient

from hub.app import create_app
from hub.events.redis_stream import PUBLISHING, READING
from hub.settings import EventSettings, Settings
from tests.support.redis_server import PrivateRedis
from tests.hub.events.support import bearer, residents, socket, wait_until

CASES = "subscription($after: String) { caseUpdates(after: $after) { id number } }"


@pytest.fixture
def redis(tmp_path) -> Iterator[PrivateRedis]:  # type: ignore[no-untyped-def]
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _instance(settings: Settings, redis: PrivateRedis, *, reads: bool, key: str) -> Settings:
    return settings.model_copy(update={"redis_url": redis.url, "events": EventSettings(
        read_feeds=reads, poll_seconds=0.1, lease_seconds=2, stream_key=key)})


def test_an_event_read_on_one_instance_reaches_subscribers_on_another(settings, redis, sources, token, stack):
    (nik, kel) = residents(stack)[0]
    with TestClient(create_app(_instance(settings, redis, reads=True, key="t:two"))) as a, \
            TestClient(create_app(_instance(settings, redis, reads=False, key="t:two"))) as b:
        wait_until(lambda: a.app.state.events.readers.positioned)
        with socket(b, bearer(token("analyst"))) as s:
            s.subscribe("b", CASES)
            time.sleep(0.3)
            number = sources.submit_complaint(nik=nik, kelurahan=kel)
            event = s.next_data("b")["data"]["caseUpdates"]
        assert event["number"] == number
        assert not b.app.state.events.readers.state.holding  # B never read a feed
        assert b.app.state.events.bus.health.is_up(READING)  # and got it from the stream, not the log


def test_a_redis_restart_mid_stream_loses_and_repeats_nothing(settings, redis, sources, token, stack):
    (nik, kel) = residents(stack)[0]
    with TestClient(create_app(_instance(settings, redis, reads=True, key="t:restart"))) as a, \
            TestClient(create_app(_instance(settings, redis, reads=False, key="t:restart"))) as b:
        wait_until(lambda: a.app.state.events.readers.positioned)
        with socket(b, bearer(token("analyst"))) as s:
            s.subscribe("r", CASES)
            time.sleep(0.3)
            made = [sources.submit_complaint(nik=nik, kelurahan=kel)]
            got = [s.next_data("r")["data"]["caseUpdates"]]
            redis.stop()  # Redis goes away, and comes back empty
            made.append(sources.submit_complaint(nik=nik, kelurahan=kel))
            got.append(s.next_data("r")["data"]["caseUpdates"])  # delivered from the store meanwhile
            redis.start()
            wait_until(lambda: a.app.state.events.bus.health.is_up(PUBLISHING) and b.app.state.events.bus.health.is_up(READING), 15)
            made.append(sources.submit_complaint(nik=nik, kelurahan=kel))
            got.append(s.next_data("r")["data"]["caseUpdates"])
            # the stream was filled again from the log: the earlier events are back in Redis too
            s.subscribe("late", CASES, {"after": got[0]["id"]})
            replay = [s.next_data("late")["data"]["caseUpdates"] for _ in range(2)]
        assert [e["number"] for e in got] == made
        ids = [int(e["id"]) for e in got]
        assert ids == [ids[0], ids[0] + 1, ids[0] + 2]  # each once, in order
        assert [e["id"] for e in replay] == [got[1]["id"], got[2]["id"]]


def test_another_instance_takes_the_feeds_over_when_the_holder_dies(settings, redis, sources, token, stack):
    (nik, kel) = residents(stack)[0]
    with ExitStack() as stack_:
        a = stack_.enter_context(TestClient(create_app(_instance(settings, redis, reads=True, key="t:fail"))))
        wait_until(lambda: a.app.state.events.readers.positioned)
        b = stack_.enter_context(TestClient(create_app(_instance(settings, redis, reads=True, key="t:fail"))))
        with socket(b, bearer(token("analyst"))) as s:
            s.subscribe("f", CASES)
            time.sleep(0.3)
            before = sources.submit_complaint(nik=nik, kelurahan=kel)
            first = s.next_data("f")["data"]["caseUpdates"]
            assert first["number"] == before and not b.app.state.events.readers.state.holding
            # A dies without letting go of its lease: its reader stops, the lease runs out
            a.portal.call(_crash_readers, a.app)
            died = time.monotonic()
            during = sources.submit_complaint(nik=nik, kelurahan=kel)
            event = s.next_data("f")["data"]["caseUpdates"]
            took = time.monotonic() - died
        assert event["number"] == during and int(event["id"]) == int(first["id"]) + 1
        assert b.app.state.events.readers.state.holding
        assert took < 10, took


async def _crash_readers(app) -> None:  # type: ignore[no-untyped-def]
    readers = app.state.events.readers
    task, readers._task = readers._task, None
    task.cancel()


def test_without_redis_instances_on_one_store_follow_its_event_log(settings, sources, token, stack):
    (nik, kel) = residents(stack)[0]
    alone = {"events": EventSettings(read_feeds=True, poll_seconds=0.1, lease_seconds=2)}
    follower = {"events": EventSettings(read_feeds=False, poll_seconds=0.1)}
    with TestClient(create_app(settings.model_copy(update=alone))) as a, \
            TestClient(create_app(settings.model_copy(update=follower))) as b:
        wait_until(lambda: a.app.state.events.readers.positioned)
        assert b.app.state.events.bus is None
        with socket(b, bearer(token("analyst"))) as s:
            s.subscribe("w", CASES)
            time.sleep(0.3)
            number = sources.submit_complaint(nik=nik, kelurahan=kel)
            assert s.next_data("w")["data"]["caseUpdates"]["number"] == number
