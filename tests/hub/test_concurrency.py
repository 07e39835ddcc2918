"""Many requests at once, on the embedded store and on PostgreSQL (store and registry):
the access ledger's chain stays unbroken and every request gets its data."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from auth.ledger import verify
from demo.population import load_population
from hub.app import create_app
from hub.demo import DemoSources, demo_settings
from hub.identity import development_issuer
from hub.settings import Settings, SourceSettings
from hub.store import create_store_engine
from tests.support.pg_database import postgres_database

REQUESTS = 200
QUERY = "query($first: Int!) { citizens(first: $first) { edges { node { nik fullName } } } }"


def patient(settings: Settings) -> Settings:
    """The sources wait as long as the queue of 200 takes on a loaded machine: this test
    is about the ledger's chain, not the timeout (tests/hub/hardening/test_faults.py)."""
    sources = {k: v.model_copy(update={"timeout": 30.0}) for k, v in settings.sources.items()}
    return settings.model_copy(update={"sources": sources})


async def hammer(settings: Settings) -> tuple[list[int], int]:
    settings = patient(settings)
    app = create_app(settings)
    token = development_issuer(settings).issue(subject="load", roles=["population_officer"])
    headers = {"Authorization": f"Bearer {token}", "X-Access-Purpose": "population-service"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            async def one(i: int) -> int:
                response = await client.post("/graphql", json={"query": QUERY, "variables": {"first": 1 + i % 3}},
                                             headers=headers)
                body = response.json()
                assert "errors" not in body, body
                return len(body["data"]["citizens"]["edges"])

            counts = await asyncio.gather(*(one(i) for i in range(REQUESTS)))
    engine = create_store_engine(settings.resolved_store_url)
    try:
        result = await verify(engine)
    finally:
        await engine.dispose()
    assert result.ok, result.to_dict()
    return list(counts), result.entries


async def test_two_hundred_concurrent_requests_leave_an_unbroken_chain_on_sqlite(
    stack: DemoSources, tmp_path: Path
) -> None:
    settings = demo_settings(stack, store_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    counts, entries = await hammer(settings)
    assert entries == sum(counts) == sum(1 + i % 3 for i in range(REQUESTS))


@pytest.mark.postgres
async def test_two_hundred_concurrent_requests_on_postgresql_store_and_registry(
    stack: DemoSources, tmp_path: Path
) -> None:
    with postgres_database() as store_url, postgres_database() as registry_url:
        sync_registry = registry_url.replace("+asyncpg", "+psycopg")
        residents = [
            row for row in _population_rows(stack.data_dir / "population.db")
        ]
        await asyncio.to_thread(load_population, sync_registry, residents)
        base = demo_settings(stack, store_url=store_url)
        sources = dict(base.sources)
        sources["population"] = SourceSettings(backend="sql", url=registry_url)
        settings = base.model_copy(update={"sources": sources})
        counts, entries = await hammer(settings)
        assert entries == sum(counts)


def _population_rows(path: Path) -> list[dict]:
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute('SELECT * FROM "BIODATA_WNI"')]
