"""Pushed operations and APQ documents in the hub store, on SQLite and on PostgreSQL:
what instances share, and the bounds that keep anonymous APQ registrations from
growing it without end."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.persisted.apq import ApqStore
from hub.persisted.manifest import ManifestOperation, read_manifest
from hub.persisted.operations import (
    OperationConflict,
    find_operation,
    list_operations,
    push_operations,
    remove_operations,
)
from hub.store import create_store_engine, create_tables, write_transaction
from tests.hub.persisted.support import sha
from tests.support.pg_database import hub_store_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with AsyncExitStack() as stack:
        url = stack.enter_context(hub_store_url(request.param, tmp_path, "simpul_persisted"))
        engine = create_store_engine(url)
        stack.push_async_callback(engine.dispose)
        await create_tables(engine)
        yield engine


def operation(body: str, op_id: str | None = None) -> ManifestOperation:
    return read_manifest(json.dumps({op_id or sha(body): body}))[0]


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_pushed_operations_are_shared_through_the_store(engine: AsyncEngine) -> None:
    me = operation("query Me { me { subject } }")
    track = operation('query T { trackApplication(number: "1") { status } }')
    async with write_transaction(engine) as conn:
        result = await push_operations(conn, "app", [me, track], runs_as=[["citizen"], ["anonymous"]])
    assert (result.added, result.unchanged, result.removed) == (2, 0, 0)
    other = create_store_engine(engine.url.render_as_string(hide_password=False))  # another instance
    try:
        async with other.connect() as conn:
            found = await find_operation(conn, "app", me.id)
            assert found is not None and found.operation == me
            assert found.may_run(frozenset({"citizen"})) and not found.may_run(frozenset({"analyst"}))
            assert await find_operation(conn, "another-app", me.id) is None
    finally:
        await other.dispose()
    async with write_transaction(engine) as conn:
        with pytest.raises(OperationConflict, match="an id keeps its document"):
            await push_operations(conn, "app", [operation("query Me { me { roles } }", me.id)], runs_as=[["citizen"]])
    async with write_transaction(engine) as conn:  # the refused push changed nothing
        assert [op.operation for op in await list_operations(conn, "app")] == sorted([me, track], key=lambda o: o.name or "")
        replaced = await push_operations(conn, "app", [me], runs_as=[["citizen"]], replace=True)
    assert (replaced.added, replaced.unchanged, replaced.removed) == (0, 1, 1)
    async with write_transaction(engine) as conn:
        [kept] = await list_operations(conn)
        assert kept.runs_as == frozenset({frozenset({"citizen"})})
        assert await remove_operations(conn, "app") == 1
        assert await list_operations(conn) == []


async def test_apq_documents_are_shared_and_found_by_their_hash(engine: AsyncEngine) -> None:
    first = ApqStore(engine, max_entries=100, max_bytes=1024, ttl_seconds=3600)
    second = ApqStore(engine, max_entries=100, max_bytes=1024, ttl_seconds=3600)  # another instance
    text = "{ me { subject } }"
    assert await second.get(sha(text)) is None
    assert await first.put(sha(text), text)
    assert await first.put(sha(text), text)  # again: still one entry
    assert await second.get(sha(text)) == text
    assert await second.count() == 1


async def test_apq_keeps_at_most_max_entries_and_drops_the_least_recently_used(engine: AsyncEngine) -> None:
    clock = Clock()
    store = ApqStore(engine, max_entries=10, max_bytes=1024, ttl_seconds=10**7, clock=clock, local_bytes=0)
    texts = [f"{{ a{i}: me {{ subject }} }}" for i in range(15)]
    for text in texts[:10]:
        clock.now += 10_000  # past the touch interval: every hit is written
        await store.put(sha(text), text)
    clock.now += 10_000
    assert await store.get(sha(texts[0])) == texts[0]  # used again: now the most recent
    for text in texts[10:]:
        clock.now += 10_000
        await store.put(sha(text), text)
    assert await store.count() == 10
    fresh = ApqStore(engine, max_entries=10, max_bytes=1024, ttl_seconds=10**7, clock=clock)
    kept = [text for text in texts if await fresh.get(sha(text)) is not None]
    assert kept == [texts[0], *texts[6:]]  # texts 1-5 were the least recently used


async def test_apq_forgets_documents_unused_for_the_ttl_and_refuses_long_ones(engine: AsyncEngine) -> None:
    clock = Clock()
    store = ApqStore(engine, max_entries=100, max_bytes=64, ttl_seconds=3600, clock=clock)
    text = "{ me { subject } }"
    await store.put(sha(text), text)
    clock.now += 3601
    fresh = ApqStore(engine, max_entries=100, max_bytes=64, ttl_seconds=3600, clock=clock)
    assert await fresh.get(sha(text)) is None  # expired: a miss, and deleted by the next registration
    other = "{ me { roles } }"
    await store.put(sha(other), other)
    assert await store.count() == 1
    long = "{ me { subject } }" + " " * 100
    assert not await store.put(sha(long), long)
    assert await fresh.get(sha(long)) is None and await store.count() == 1


async def test_a_flood_of_distinct_documents_stays_within_the_bounds(engine: AsyncEngine) -> None:
    """Anyone may register: many callers' distinct documents together never grow the store
    past its count or byte bound, nor an instance's memory past its own; evictions are counted."""
    clock = Clock()
    outcomes: dict[str, int] = {}
    store = ApqStore(engine, max_entries=40, max_bytes=512, max_total_bytes=3000, ttl_seconds=10**7, clock=clock,
                     local_bytes=2000, on_outcome=lambda outcome, n: outcomes.__setitem__(
                         outcome, outcomes.get(outcome, 0) + n))
    texts = [f'{{ trackApplication(number: "{i:06d}{"x" * (i % 200)}") {{ status }} }}' for i in range(300)]
    for text in texts:
        clock.now += 1
        assert await store.put(sha(text), text)
        assert store.local_bytes <= 2000
    assert await store.count() <= 40 and await store.stored_bytes() <= 3000
    assert outcomes["kept"] == 300 and outcomes["evicted"] == 300 - await store.count()
    fresh = ApqStore(engine, max_entries=40, max_bytes=512, max_total_bytes=3000, ttl_seconds=10**7, clock=clock)
    assert await fresh.get(sha(texts[-1])) == texts[-1] and await fresh.get(sha(texts[0])) is None
    assert not await store.put(sha("x" * 600), "x" * 600) and outcomes["too_large"] == 1
