"""One throwaway PostgreSQL database per use, for every test that needs the real server.

Tests that touch PostgreSQL carry the ``postgres`` marker; they use this helper so each
gets a fresh, uniquely named database that is dropped (even with connections still open)
afterwards, instead of each folder keeping its own copy of the create/drop code."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

SERVER = "postgres@127.0.0.1:5432"
ADMIN_URL = f"postgresql://{SERVER}/test"


def database_url(name: str, driver: str | None = "asyncpg") -> str:
    """The URL of database ``name``; ``driver`` picks the SQLAlchemy flavour (None: plain libpq)."""
    scheme = "postgresql" if driver is None else f"postgresql+{driver}"
    return f"{scheme}://{SERVER}/{name}"


@contextmanager
def postgres_database(prefix: str = "simpul_test", driver: str | None = "asyncpg") -> Iterator[str]:
    """Create a fresh database, yield its URL in the ``driver`` flavour, drop it after.

    Synchronous on purpose, so sync and async fixtures alike can use it."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(name, driver)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def hub_store_url(kind: str, tmp_path: Path, prefix: str = "simpul_test") -> Iterator[str]:
    """A hub store URL of ``kind`` ("sqlite": a file in ``tmp_path``; "postgres": a fresh
    database, dropped after), for tests parametrized over both."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
        return
    with postgres_database(prefix) as url:
        yield url
