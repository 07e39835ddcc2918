"""The hub's own store: service clients, the access ledger, surveys, idempotency keys,
persisted operations, automatic persisted queries and citizen sessions.

SQLite in the data directory by default, PostgreSQL in production. Each package that
keeps data here defines its tables on its own MetaData; the store's schema is made and
changed by the Alembic migrations of `hub.migrations`, which a test holds to these tables.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import MetaData
from sqlalchemy.engine import make_url
import sqlalchemy.ext.asyncio as sqlalchemy_asyncio
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from auth.clients import metadata as clients_metadata
from auth.ledger import ledger_metadata, prepare_engine
from connectors.metrics import metrics_metadata
from connectors.surveys import surveys_metadata
from hub.citizen.tables import metadata as citizen_metadata
from hub.events.log import events_metadata
from hub.migrations import upgrade_store
from hub.persisted.tables import metadata as persisted_metadata
from hub.private_files import create_private_file

ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def async_url(url: str) -> str:
    parsed = make_url(url)
    driver = ASYNC_DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver).render_as_string(hide_password=False) if driver else url


def store_metadata() -> list[MetaData]:
    from hub.notifications.outbox import notifications_metadata  # it writes through this module

    return [clients_metadata, ledger_metadata, surveys_metadata, metrics_metadata, persisted_metadata,
            events_metadata, notifications_metadata, citizen_metadata]


def store_tables() -> MetaData:
    """Every table of the store on one MetaData (what the migrations must create)."""
    merged = MetaData()
    for metadata in store_metadata():
        for table in metadata.tables.values():
            table.to_metadata(merged)
    return merged


def create_store_engine(url: str) -> AsyncEngine:
    url = async_url(url)
    if url.startswith("sqlite"):
        parsed = make_url(url)
        database = parsed.database
        if database and database != ":memory:" and not parsed.query.get("uri"):
            create_private_file(Path(database))  # 0600 before SQLite opens it (its -wal too)
        # through the module: hub.telemetry's SQLAlchemy instrumentation patches it there
        engine = sqlalchemy_asyncio.create_async_engine(url, connect_args={"timeout": 30})
    else:
        engine = sqlalchemy_asyncio.create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    # WAL, busy timeout, durable commits and BEGIN IMMEDIATE for ledger writers (SQLite)
    prepare_engine(engine)
    return engine


async def create_tables(engine: AsyncEngine) -> None:
    """Bring the store to the newest schema: the migrations up to the head (see
    hub.migrations; nothing to do on a current store)."""
    await upgrade_store(engine)


@contextlib.asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction that takes SQLite's write lock at BEGIN (BEGIN IMMEDIATE), so that a
    read-then-write never fails with "database is locked" when another writer got in
    between; an ordinary transaction on PostgreSQL."""
    async with engine.connect() as conn:
        conn = await conn.execution_options(sqlite_begin="IMMEDIATE")
        async with conn.begin():
            yield conn
