"""Revoking a service account stops its already-issued tokens within seconds, on every
hub instance (issue 21, class 9): through the store on SQLite and PostgreSQL, and at
once through Redis when configured."""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from starlette.testclient import TestClient

from auth.errors import AuthError
from auth.issuer import DevelopmentIssuer
from auth.tokens import TokenValidator
from hub.app import create_app
from hub.clients_cli import run_client_command
from hub.settings import Settings
from tests.support.sample_world import build_world
from schema.sources import Sources
from tests.support.pg_database import hub_store_url

REDIS_URL = "redis://127.0.0.1:6379/0"
ME = {"query": "{ me { clientId } }"}


def test_a_remembered_token_is_refused_once_its_client_is_revoked(tmp_path: Path) -> None:
    issuer = DevelopmentIssuer.load_or_create(tmp_path, issuer="simpul-hub", audience="simpul")
    revoked: set[str] = set()
    validator = TokenValidator(issuer="simpul-hub", audience="simpul", key_source=issuer.key_source(),
                               algorithms=("ES256",), revoked=revoked.__contains__)
    token = issuer.issue(subject="dashboard", roles=["analyst"], client_id="dashboard")
    other = issuer.issue(subject="reporting", roles=["analyst"], client_id="reporting")
    assert asyncio.run(validator.principal(token)).client_id == "dashboard"  # verified and remembered
    revoked.add("dashboard")
    with pytest.raises(AuthError, match="client has been revoked"):
        asyncio.run(validator.principal(token))
    assert asyncio.run(validator.principal(other)).client_id == "reporting"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with hub_store_url(request.param, tmp_path, "revocation_test") as url:
        yield url


def hub_settings(tmp_path: Path, store_url: str, **overrides: object) -> Settings:
    return Settings(data_dir=tmp_path / "data", store_url=store_url, metrics_refresh_seconds=0,
                    **overrides)  # type: ignore[arg-type]


def client_command(settings: Settings, command: str, **args: object) -> None:
    asyncio.run(run_client_command(settings, argparse.Namespace(client_command=command, **args)))


def add_client(settings: Settings, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    client_command(settings, "add", roles=["analyst"], scopes=[], purpose="statistics",
                   token_lifetime=3600, name="dashboard")
    lines = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines() if ": " in line)
    return lines["client_id"], lines["client_secret"]


def refused_everywhere_within(hubs: list[TestClient], headers: dict[str, str], bound: float) -> float:
    """Seconds until every hub refuses the token (fails past `bound`)."""
    started = time.monotonic()
    while True:
        statuses = [hub.post("/graphql", json=ME, headers=headers).status_code for hub in hubs]
        elapsed = time.monotonic() - started
        if statuses == [401] * len(hubs):
            return elapsed
        assert elapsed < bound, f"still {statuses} after {elapsed:.1f} s"
        time.sleep(0.05)


def revoke_and_time(settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                    bound: float) -> float:
    """Two instances on one store: a token from the first works on both, then `hub client
    revoke` (the CLI's code, its own process state) and the seconds until both refuse it."""
    client_id, secret = add_client(settings, capsys)
    world = build_world()
    with TestClient(create_app(settings, sources=Sources(*world.sources()))) as first, \
            TestClient(create_app(settings, sources=Sources(*world.sources()))) as second:
        issued = first.post("https://testserver/oauth/token", data={"grant_type": "client_credentials"},
                            auth=(client_id, secret))
        assert issued.status_code == 200, issued.text
        headers = {"Authorization": f"Bearer {issued.json()['access_token']}"}
        for hub in (first, second):
            assert hub.post("/graphql", json=ME, headers=headers).json() == {"data": {"me": {"clientId": client_id}}}
        client_command(settings, "revoke", client_id=client_id)
        elapsed = refused_everywhere_within([first, second], headers, bound)
        refusal = second.post("/graphql", json=ME, headers=headers)
        assert "revoked" in refusal.json()["errors"][0]["message"]
        again = first.post("https://testserver/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(client_id, secret))
        assert again.status_code == 401  # and it gets no new token
    return elapsed


def test_a_revoked_clients_tokens_are_refused_on_every_instance_within_the_poll_interval(
    tmp_path: Path, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = hub_settings(tmp_path, store_url, revocation_poll_seconds=0.5)
    elapsed = revoke_and_time(settings, tmp_path, capsys, bound=3.0)
    print(f"refused on both instances {elapsed:.2f} s after `hub client revoke` (poll 0.5 s)")


@pytest.mark.redis
def test_redis_announces_a_revocation_to_every_instance_at_once(
    tmp_path: Path, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.ConnectionError:
        pytest.fail("no Redis on 127.0.0.1:6379")
    finally:
        connection.close()
    # a poll interval far beyond the bound: only the announcement can be this fast
    settings = hub_settings(tmp_path, store_url, redis_url=REDIS_URL, revocation_poll_seconds=60,
                            revocation_channel=f"simpul-test:{uuid.uuid4().hex}:revocations",
                            rate_limits={"key_prefix": f"simpul-test:{uuid.uuid4().hex}:"})
    elapsed = revoke_and_time(settings, tmp_path, capsys, bound=2.0)
    print(f"refused on both instances {elapsed:.2f} s after `hub client revoke` (Redis)")


def test_revocation_survives_a_redis_outage_by_polling(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = hub_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
                            redis_url="redis://127.0.0.1:1/0", revocation_poll_seconds=0.5)
    revoke_and_time(settings, tmp_path, capsys, bound=4.0)
