"""Fixtures of the connector tests: the sample registry in SQLite and PostgreSQL.

The databases are read-only for the backends, so one per test session suffices.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from siak_rows import PG_SERVER, create_pg_database, drop_pg_database, load


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("siak") / "siak.db"
    await load(f"sqlite+aiosqlite:///{path}")
    return f"sqlite:///{path}"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def postgres_url() -> AsyncIterator[str]:
    name = await create_pg_database()
    try:
        await load(f"{PG_SERVER.replace('postgresql', 'postgresql+asyncpg')}/{name}")
        yield f"{PG_SERVER}/{name}"
    finally:
        await drop_pg_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """The sample registry in SQLite and in PostgreSQL (each test runs against both)."""
    return request.getfixturevalue(f"{request.param}_url")
