from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from siak_rows import (
    PG_SERVER,
    create_pg_database,
    drop_pg_database,
    load,
)


@pytest.fixture
async def sqlite_url(tmp_path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'siak.db'}"
    await load(url)
    return f"sqlite:///{tmp_path / 'siak.db'}"


@pytest.fixture
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
