"""Redis going away and coming back under a running hub (a private redis-server): every
request is still answered, rate limits still hold (per instance), the outage is logged
once when it begins and once when it ends per use, and counted in the metrics."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from hub.app import create_app
from hub.settings import REDIS_URL_DESCRIPTION, Settings
from tests.support.hardening import guarded_sources, memory_settings
from tests.support.redis_server import PrivateRedis
from tests.support.sample_world import build_world

ME = {"query": "{ me { anonymous } }"}
LIMIT = 25


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path: Path, redis: PrivateRedis) -> Settings:
    return memory_settings(
        tmp_path, redis_url=redis.url, revocation_poll_seconds=0.1,
        rate_limits={"per_client": {"anonymous": LIMIT, "default": 1000}, "key_prefix": f"t{time.time_ns()}:"},
    )


def metric(client: TestClient, name: str, **labels: str) -> float:
    text = client.get("/metrics").text
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
    return 0.0


def redis_logs(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "simpul.redis"]


def test_a_redis_outage_is_logged_once_per_change_counted_and_never_fails_a_request(
    settings: Settings, redis: PrivateRedis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="simpul.redis")
    with TestClient(create_app(settings, sources=guarded_sources(build_world()))) as client:
        for _ in range(3):
            assert client.post("/graphql", json=ME).status_code == 200
        assert metric(client, "simpul_redis_up", use="rate limits") == 1

        redis.stop()
        statuses = [client.post("/graphql", json=ME).status_code for _ in range(2 * LIMIT)]
        time.sleep(0.5)  # the revocation watcher meets the outage too
        assert set(statuses) == {200, 429}, statuses  # answered, and limited on this instance
        assert statuses.count(200) == LIMIT  # counted afresh here: the shared count is out of reach
        assert metric(client, "simpul_redis_up", use="rate limits") == 0
        assert metric(client, "simpul_redis_state_changes_total", use="rate limits", state="down") == 1
        failed_calls = metric(client, "simpul_redis_errors_total", use="rate limits")
        assert 1 <= failed_calls < 2 * LIMIT / 4  # probed about once a second, not per request
        down = [m for m in redis_logs(caplog) if "unavailable" in m]
        assert len([m for m in down if "rate limits" in m]) == 1, down
        assert len([m for m in down if "revocation channel" in m]) == 1, down

        redis.start()
        time.sleep(1.2)  # past the retry interval
        client.post("/graphql", json=ME)
        for _ in range(40):  # the watcher resubscribes within its poll interval
            if metric(client, "simpul_redis_up", use="the revocation channel") == 1:
                break
            time.sleep(0.1)
        assert metric(client, "simpul_redis_up", use="rate limits") == 1
        assert metric(client, "simpul_redis_up", use="the revocation channel") == 1
        assert metric(client, "simpul_redis_state_changes_total", use="rate limits", state="up") == 1
        back = [m for m in redis_logs(caplog) if "reachable again" in m]
        assert len([m for m in back if "rate limits" in m]) == 1, back
        # down and up once for each use: the two above, and the event stream's two (issue 25),
        # which meet the outage on their own schedule (a blocking read, the readers' rounds)
        logs = redis_logs(caplog)
        for use in ("rate limits", "the revocation channel", "the event stream (reading)",
                    "the event stream (publishing)"):
            mentions = [m for m in logs if f" for {use} " in m]
            assert len([m for m in mentions if "unavailable" in m]) <= 1, mentions
            assert len([m for m in mentions if "reachable again" in m]) <= 1, mentions
        assert len(logs) <= 8, logs


def test_the_redis_url_setting_says_what_redis_carries() -> None:
    description = Settings.model_fields["redis_url"].description
    assert description == REDIS_URL_DESCRIPTION
    for claim in ("rate-limit counters", "revocation channel", "wake-up channel", "not cached in Redis",
                  "simpul_redis_errors_total"):
        assert claim in description
