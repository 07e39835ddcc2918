"""Fixtures of the connector tests: the sample registry in SQLite and PostgreSQL.

The databases are read-only for the backends, so one per test session suffices.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from tests.support.pg_database import postgres_database
from tests.connectors.siak_rows import load


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("siak") / "siak.db"
    await load(f"sqlite+aiosqlite:///{path}")
    return f"sqlite:///{path}"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def postgres_url() -> AsyncIterator[str]:
    with postgres_database("test_connectors", driver=None) as url:
        await load(url.replace("postgresql://", "postgresql+asyncpg://"))
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """The sample registry in SQLite and in PostgreSQL (each test runs against both)."""
    return request.getfixturevalue(f"{request.param}_url")
