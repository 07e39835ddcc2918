"""Rate limits on /graphql: per client by role, per role, in one hub and shared by two
hubs through Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from starlette.testclient import TestClient

from auth.principal import ANONYMOUS, Principal
from tests.support.hardening import Headers, guarded_sources, memory_settings
from tests.support.sample_world import World
from hub.app import create_app
from hub.identity import development_issuer
from hub.ratelimit import InProcessCounter, RateLimits
from hub.settings import Settings

REDIS_URL = "redis://127.0.0.1:6379/0"
ME = {"query": "{ me { subject } }"}


def limited_settings(tmp_path: Path, **limits: object) -> Settings:
    return memory_settings(tmp_path, rate_limits={"window_seconds": 60, **limits})


@pytest.fixture
def limited(tmp_path: Path, world: World) -> Iterator[TestClient]:
    settings = limited_settings(tmp_path, per_client={"anonymous": 3, "default": 5})
    with TestClient(create_app(settings, sources=guarded_sources(world))) as client:
        yield client


def test_a_client_past_its_limit_gets_429_with_retry_after(limited: TestClient) -> None:
    for _ in range(3):
        assert limited.post("/graphql", json=ME).status_code == 200
    refused = limited.post("/graphql", json=ME)
    assert refused.status_code == 429
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 1 <= error["extensions"]["retryAfter"] <= 60
    assert refused.headers["retry-after"] == str(error["extensions"]["retryAfter"])
    assert limited.get("/healthz").status_code == 200  # probes are not limited


def test_limits_are_per_client_and_by_role(
    limited: TestClient, tmp_path: Path, token: Callable[..., Headers]
) -> None:
    for _ in range(4):
        limited.post("/graphql", json=ME)
    assert limited.post("/graphql", json=ME).status_code == 429
    officer = token("population_officer")
    statuses = [limited.post("/graphql", json=ME, headers=officer).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]  # its own count, and the larger default limit


def test_a_role_limit_caps_all_its_clients_together(tmp_path: Path, world: World,
                                                     token: Callable[..., Headers]) -> None:
    settings = limited_settings(tmp_path, per_client={"default": 100}, per_role={"analyst": 3})
    with TestClient(create_app(settings, sources=guarded_sources(world))) as client:
        first = token("analyst")
        other = {"Authorization": "Bearer " + development_issuer(settings).issue(
            subject="analyst-2", roles=["analyst"], department="bps")}
        statuses = [client.post("/graphql", json=ME, headers=h).status_code for h in (first, first, other, other)]
    assert statuses == [200, 200, 200, 429]


def test_the_in_process_window_restarts_after_it_ends() -> None:
    now = [0.0]
    counter = InProcessCounter(clock=lambda: now[0])
    counts = [asyncio.run(counter.hit("k", 10)).hits for _ in range(3)]
    now[0] = 10.5
    assert counts == [1, 2, 3] and asyncio.run(counter.hit("k", 10)).hits == 1


def test_a_principal_takes_the_most_generous_limit_of_its_roles() -> None:
    limits = RateLimits(window=60, per_client={"anonymous": 1, "analyst": 10, "auditor": 20, "default": 5},
                        per_role={})
    both = Principal(subject="x", roles=frozenset({"analyst", "auditor"}))
    unknown = Principal(subject="y", roles=frozenset({"citizen"}))
    assert (limits.client_limit(both), limits.client_limit(unknown), limits.client_limit(ANONYMOUS)) == (20, 5, 1)


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    prefix = f"simpul-test:{uuid.uuid4().hex}:"
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    yield prefix
    keys = list(connection.scan_iter(match=prefix + "*"))
    if keys:
        connection.delete(*keys)
    connection.close()


@pytest.mark.redis
def test_two_hub_instances_share_their_limits_through_redis(
    tmp_path: Path, world: World, redis_prefix: str
) -> None:
    def hub(name: str) -> TestClient:
        path = tmp_path / name
        path.mkdir()
        settings = memory_settings(path, redis_url=REDIS_URL, rate_limits={
            "window_seconds": 30, "per_client": {"anonymous": 4}, "key_prefix": redis_prefix})
        return TestClient(create_app(settings, sources=guarded_sources(world)))

    with hub("a") as first, hub("b") as second:
        statuses = [c.post("/graphql", json=ME).status_code for c in (first, second, first, second, first, second)]
        refused = second.post("/graphql", json=ME)
    assert statuses == [200, 200, 200, 200, 429, 429]
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert 1 <= int(refused.headers["retry-after"]) <= 30
    ttl = redis.Redis.from_url(REDIS_URL).pttl(redis_prefix + "address:testclient")
    assert 0 < ttl <= 30_000


@pytest.mark.redis
def test_an_unreachable_redis_answers_every_request_and_limits_on_this_instance(
    tmp_path: Path, world: World
) -> None:
    """Redis down takes nothing down: the hub answers, counting the limit on its own
    (a Redis outage under load: tests/hub/test_redis_outage.py)."""
    settings = memory_settings(tmp_path, redis_url="redis://127.0.0.1:1/0",
                               rate_limits={"per_client": {"anonymous": 1}})
    with TestClient(create_app(settings, sources=guarded_sources(world))) as client:
        assert [client.post("/graphql", json=ME).status_code for _ in range(3)] == [200, 429, 429]


def test_operations_over_a_subscription_socket_count_against_the_limit(
    tmp_path: Path, world: World, token: Callable[..., Headers]
) -> None:
    # a graphql-transport-ws socket runs queries and mutations too: each one is a request
    settings = limited_settings(tmp_path, per_client={"anonymous": 3, "default": 3})
    officer = token("population_officer")
    with TestClient(create_app(settings, sources=guarded_sources(world))) as client:
        with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            ws.send_json({"type": "connection_init", "payload": {"Authorization": officer["Authorization"]}})
            assert ws.receive_json() == {"type": "connection_ack"}
            kinds = []
            for n in range(4):
                ws.send_json({"id": str(n), "type": "subscribe", "payload": {"query": ME["query"]}})
                message = ws.receive_json()
                kinds.append(message["type"])
                if message["type"] == "next":
                    assert ws.receive_json()["type"] == "complete"
            assert kinds == ["next"] * 3 + ["error"]
            error = message["payload"][0]["extensions"]
            assert error["code"] == "RATE_LIMITED" and 1 <= error["retryAfter"] <= 60
            ws.send_json({"type": "ping"})  # the socket stays open
            assert ws.receive_json() == {"type": "pong"}
        # the socket's operations and HTTP requests share one count
        assert client.post("/graphql", json=ME, headers=officer).status_code == 429
