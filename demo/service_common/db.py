"""Engines for the sample services: async at run time, sync for the bulk loaders.

A service accepts any SQLAlchemy URL in its sync spelling (`sqlite:///x.db`,
`postgresql://...`) or its async one, and picks the matching driver itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import Any

from sqlalchemy import Table, create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
_SYNC_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}
_ASYNC_CAPABLE = {"sqlite+aiosqlite", "postgresql+asyncpg", "postgresql+psycopg"}

BATCH_ROWS = 5000


def async_url(url: str) -> URL:
    parsed = make_url(url)
    if parsed.drivername in _ASYNC_CAPABLE:
        return parsed
    return parsed.set(drivername=_ASYNC_DRIVERS.get(parsed.get_backend_name(), parsed.drivername))


def sync_url(url: str) -> URL:
    parsed = make_url(url)
    if parsed.drivername == "postgresql+psycopg":
        return parsed
    return parsed.set(drivername=_SYNC_DRIVERS.get(parsed.get_backend_name(), parsed.drivername))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def open_async_engine(url: str) -> AsyncEngine:
    parsed = async_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(parsed, pool_pre_ping=True)
    engine = create_async_engine(parsed, connect_args={"timeout": 30})
    if parsed.database not in (None, "", ":memory:"):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def open_sync_engine(url: str) -> Engine:
    parsed = sync_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed)
    engine = create_engine(parsed, connect_args={"timeout": 30})
    if parsed.database not in (None, "", ":memory:"):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class BatchInserter:
    """Buffers rows per table and inserts them with executemany, `BATCH_ROWS` at a time."""

    def __init__(self, conn: Connection, *, batch_rows: int = BATCH_ROWS) -> None:
        self._conn = conn
        self._batch_rows = batch_rows
        self._pending: dict[Table, list[Mapping[str, Any]]] = {}

    def add(self, table: Table, row: Mapping[str, Any]) -> None:
        rows = self._pending.setdefault(table, [])
        rows.append(row)
        if len(rows) >= self._batch_rows:
            self.flush()  # parents before children, for foreign keys

    def flush(self) -> None:
        """Insert everything buffered, parents first (tables in the order first seen)."""
        for table in list(self._pending):
            self._flush_table(table)

    def _flush_table(self, table: Table) -> None:
        rows = self._pending.get(table)
        if rows:
            self._conn.execute(table.insert(), rows)
            self._pending[table] = []
