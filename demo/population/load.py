"""Bulk load of `BIODATA_WNI` on any SQLAlchemy URL (sync engine).

The table is dropped and recreated, rows are inserted with executemany in batches
(SQLite: WAL journal and synchronous=OFF during the load), indexes are built last.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import islice
from typing import Any

from sqlalchemy import create_engine, event, insert
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.schema import CreateTable
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from demo.population.schema import COLUMNS, INDEXES, biodata_wni, metadata

BATCH_SIZE = 5_000


class PopulationLoadError(Exception):
    """The population database could not be created or loaded."""

    code = "POPULATION_LOAD_FAILED"

    def __str__(self) -> str:
        return f"{self.code}: {super().__str__()}"


def load_population(url: str, residents: Iterable[Mapping[str, Any]], *,
                    batch_size: int = BATCH_SIZE) -> int:
    """(Re)create `BIODATA_WNI` at `url`, insert `residents`, return the row count."""
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            metadata.drop_all(conn, tables=[biodata_wni])
            conn.execute(CreateTable(biodata_wni))  # indexes after the load
        count = 0
        stmt = insert(biodata_wni)
        rows = iter(residents)
        with engine.begin() as conn:
            while batch := [_row(r) for r in islice(rows, batch_size)]:
                conn.execute(stmt, batch)
                count += len(batch)
            for index in INDEXES:
                index.create(conn)
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.exec_driver_sql('ANALYZE "BIODATA_WNI"')
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.exec_driver_sql("ANALYZE")
                conn.exec_driver_sql("PRAGMA journal_mode=DELETE")  # readable read-only later
        return count
    except SQLAlchemyError as exc:
        raise PopulationLoadError(f"loading {_safe(url)} failed: {exc.__class__.__name__}: "
                                  f"{getattr(exc, 'orig', exc)}") from exc
    finally:
        engine.dispose()


def _engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
        engine = create_engine(parsed)
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as exc:
        raise PopulationLoadError(f"invalid database URL {url!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_bulk_pragmas)
    return engine


def _sqlite_bulk_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


def _row(resident: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return {name: resident[name] for name in COLUMNS}
    except KeyError as exc:
        raise PopulationLoadError(f"resident row lacks column {exc.args[0]}") from None


def _safe(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid url>"
