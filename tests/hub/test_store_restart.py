"""The hub store's PostgreSQL restarts under a running hub (a private cluster): while it
is down no personal data leaves (LEDGER_UNAVAILABLE), and once it is back the hub
answers again without a restart, on the same unbroken ledger chain."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.testclient import TestClient

from auth.ledger import verify
from hub.app import create_app
from hub.identity import development_issuer
from tests.support.hardening import guarded_sources, memory_settings
from tests.support.private_postgres import PrivatePostgres
from tests.support.sample_world import World, build_world

pytestmark = pytest.mark.postgres

CITIZEN = "query($nik: String!) { citizen(nik: $nik) { nik fullName } }"


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres().init()
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


def test_the_store_restarting_fails_closed_then_recovers_without_a_hub_restart(
    postgres: PrivatePostgres, tmp_path: Path
) -> None:
    world: World = build_world()
    settings = memory_settings(tmp_path).model_copy(update={"store_url": postgres.url})
    token = development_issuer(settings).issue(subject="t-officer", roles=["population_officer"], department="t")
    headers = {"Authorization": f"Bearer {token}", "X-Access-Purpose": "population-service"}
    citizen = world.citizens[0]

    def ask() -> dict:  # type: ignore[type-arg]
        response = client.post("/graphql", json={"query": CITIZEN, "variables": {"nik": citizen.nik}},
                               headers=headers)
        assert response.status_code in (200, 503), response.text
        return response.json()  # type: ignore[no-any-return]

    with TestClient(create_app(settings, sources=guarded_sources(world))) as client:
        assert ask()["data"]["citizen"]["nik"] == citizen.nik

        postgres.stop("immediate")
        refused = ask()
        assert refused.get("data") is None or refused["data"].get("citizen") is None
        assert [e["extensions"]["code"] for e in refused["errors"]] == ["LEDGER_UNAVAILABLE"]
        assert citizen.nik not in str(refused) and citizen.full_name not in str(refused)

        postgres.start()
        deadline = time.monotonic() + 30
        while True:
            answer = ask()
            if answer.get("data") and answer["data"].get("citizen"):
                break
            assert time.monotonic() < deadline, answer
            time.sleep(0.2)
        assert answer["data"]["citizen"]["nik"] == citizen.nik
        assert "errors" not in answer

    async def check() -> None:
        engine = create_async_engine(postgres.url)
        try:
            result = await verify(engine)
        finally:
            await engine.dispose()
        assert result.ok and result.entries >= 2

    import asyncio

    asyncio.run(check())
