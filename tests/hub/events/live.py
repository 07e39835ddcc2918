"""What the live-group tests share: their fixtures (tokens of any role, two residents,
a hub on a SQLite or PostgreSQL store) and the helpers that open a subscription and read its
raw frames."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from hub.demo import DemoSources
from hub.identity import development_issuer
from hub.notifications.outbox import PENDING, outbox_counts
from hub.settings import Settings
from hub.store import create_store_engine
from tests.hub.events.support import Socket, residents, socket, wait_until
from tests.support.pg_database import hub_store_url


@pytest.fixture
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The hub store's URL: a SQLite file, or (parametrized `indirect` with "postgres") a
    fresh PostgreSQL database, dropped after."""
    with hub_store_url(getattr(request, "param", "sqlite"), tmp_path, prefix="simpul_live") as url:
        yield url


@pytest.fixture
def settings(settings: Settings, store: str, tmp_path: Path) -> Settings:
    """The events tests' hub, on `store` (its ledger checkpoints beside the test's files)."""
    checkpoints = settings.ledger_checkpoints.model_copy(update={"file": tmp_path / "checkpoints"})
    return settings.model_copy(update={"store_url": store, "ledger_checkpoints": checkpoints})


@pytest.fixture
def issue(settings: Settings) -> Callable[..., dict[str, str]]:
    """A connection_init payload: a token of `role` for `subject`, with purpose and case."""
    issuer = development_issuer(settings)

    def make(role: str, subject: str, *, ttl: int = 3600, purpose: str | None = None, case: str | None = None,
             **claims: str) -> dict[str, str]:
        token = issuer.issue(subject=subject, roles=[role], department="test", ttl_seconds=ttl, **claims)
        payload = {"Authorization": f"Bearer {token}"}
        if purpose is not None:
            payload["purpose"] = purpose
        if case is not None:
            payload["case"] = case
        return payload

    return make


@pytest.fixture
def people(stack: DemoSources) -> tuple[tuple[str, str], tuple[str, str]]:
    found = residents(stack)
    return found[0], found[1]  # (nik, kelurahan) in two different kelurahan


def opened(stack: ExitStack, client: TestClient, payload: dict[str, str], query: str,
                      variables: dict[str, Any] | None = None, op_id: str = "s") -> Socket:
    sock = stack.enter_context(socket(client, payload))
    sock.subscribe(op_id, query, variables)
    return sock


def frames_until(sock: Socket, marker: str, limit: int = 30) -> list[str]:
    """The raw text of each message up to and including the first that holds `marker`."""
    frames = []
    for _ in range(limit):
        frames.append(sock.ws.receive_text())
        if marker in frames[-1]:
            return frames
    raise AssertionError(f"{marker} never came: {frames}")


def groups_of(client: TestClient) -> Any:
    return client.app.state.subscription_groups


def notifications_sent(settings: Settings) -> None:
    """Until the outbox holds no message waiting: a citizen's complaint notifies them, and a
    hub stopped while a message is being marked sent can leave an aiosqlite connection
    closing forever (hub.notifications.sender: its sends are cancelled mid-transaction)."""

    async def pending() -> int:
        engine = create_store_engine(settings.resolved_store_url)
        try:
            return (await outbox_counts(engine))[PENDING]
        finally:
            await engine.dispose()

    wait_until(lambda: asyncio.run(pending()) == 0)


def subscribed(client: TestClient, count: int = 1) -> None:
    """Until the hub's event stream has `count` subscribers (groups' leaders, lone runs)."""
    wait_until(lambda: client.app.state.events.hub.subscriber_count >= count)
