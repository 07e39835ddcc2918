"""The service-client store, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from auth.clients import (
    ClientExists,
    add_client,
    clients_table,
    get_client,
    hash_secret,
    list_clients,
    metadata,
    revoke_client,
    verify_secret,
)
from tests.support.pg_database import hub_store_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with AsyncExitStack() as stack:
        url = stack.enter_context(hub_store_url(request.param, tmp_path, "simpul_auth"))
        engine = create_async_engine(url)
        stack.push_async_callback(engine.dispose)
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        yield engine


async def test_added_client_is_stored_without_its_secret(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        client_id, secret = await add_client(
            conn,
            roles=["analyst"],
            scopes=["reports:read", "metrics:read"],
            purpose="statistics",
            name="dashboard",
        )
    async with engine.connect() as conn:
        client = await get_client(conn, client_id)
        raw = (await conn.execute(sa.select(clients_table))).mappings().one()
    assert client is not None
    assert client.roles == frozenset({"analyst"})
    assert client.scopes == frozenset({"reports:read", "metrics:read"})
    assert client.purpose == "statistics"
    assert client.token_lifetime == 300
    assert client.name == "dashboard"
    assert not client.revoked
    assert client.created_at.tzinfo is not None
    assert secret not in str(dict(raw))
    assert raw["secret_hash"].startswith("scrypt$")
    assert client.check_secret(secret)
    assert not client.check_secret(secret + "x")
    assert secret not in repr(client) and "scrypt" not in repr(client)


async def test_clients_are_listed_and_revoked(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        first, _ = await add_client(conn, roles=["analyst"], client_id="dash-1")
        second, _ = await add_client(conn, roles=["licensing_officer"], client_id="oss-bridge")
    async with engine.begin() as conn:
        assert await revoke_client(conn, second)
        assert not await revoke_client(conn, second)  # already revoked
        assert not await revoke_client(conn, "nobody")
    async with engine.connect() as conn:
        everyone = await list_clients(conn)
        active = await list_clients(conn, include_revoked=False)
        revoked = await get_client(conn, second)
    assert {c.client_id for c in everyone} == {first, second}
    assert [c.client_id for c in active] == [first]
    assert revoked is not None and revoked.revoked and revoked.revoked_at is not None


async def test_duplicate_client_id_is_refused_and_the_transaction_survives(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await add_client(conn, roles=["analyst"], client_id="dash-1")
        with pytest.raises(ClientExists):
            await add_client(conn, roles=["operator"], client_id="dash-1")
        await add_client(conn, roles=["operator"], client_id="ops-1")
    async with engine.connect() as conn:
        assert {c.client_id for c in await list_clients(conn)} == {"dash-1", "ops-1"}


async def test_store_works_through_a_session(engine: AsyncEngine) -> None:
    async with AsyncSession(engine) as session, session.begin():
        client_id, _ = await add_client(session, roles=["auditor"])
    async with AsyncSession(engine) as session:
        client = await get_client(session, client_id)
    assert client is not None and client.roles == {"auditor"}


async def test_caller_owns_the_transaction(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await add_client(conn, roles=["analyst"], client_id="never-committed")
        await conn.rollback()
    async with engine.connect() as conn:
        assert await get_client(conn, "never-committed") is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"roles": []}, "role", id="no-roles"),
        pytest.param({"roles": ["a b"]}, "role", id="role-with-space"),
        pytest.param({"scopes": [""]}, "scope", id="empty-scope"),
        pytest.param({"token_lifetime": 0}, "lifetime", id="zero-lifetime"),
        pytest.param({"token_lifetime": 86401}, "lifetime", id="lifetime-too-long"),
        pytest.param({"client_id": "x"}, "client_id", id="client-id-too-short"),
        pytest.param({"client_id": "has space"}, "client_id", id="client-id-with-space"),
        pytest.param({"purpose": "two words"}, "purpose", id="purpose-with-space"),
    ],
)
async def test_bad_client_records_are_refused(kwargs: dict[str, object], message: str, tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            arguments: dict[str, object] = {"roles": ["analyst"], **kwargs}
            with pytest.raises(ValueError, match=message):
                await add_client(conn, **arguments)  # type: ignore[arg-type]
    finally:
        await engine.dispose()


def test_secret_hashes_are_salted_and_malformed_hashes_never_match() -> None:
    first, second = hash_secret("s3cret"), hash_secret("s3cret")
    assert first != second
    assert verify_secret("s3cret", first) and verify_secret("s3cret", second)
    for broken in ["", "plain", "scrypt$1$2$3$x$y", "md5$a$b$c$d$e", first.replace("scrypt", "bcrypt")]:
        assert not verify_secret("s3cret", broken)
