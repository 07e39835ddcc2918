"""Helpers for the bulk loaders: required fields with a clear error, feed entries, and
the write skeleton both loaders share."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from sqlalchemy import MetaData, Table
from sqlalchemy.engine import Connection

from demo.service_common.db import BatchInserter, chunked, open_sync_engine
from demo.service_common.timeutil import parse_time


class LoadError(ValueError):
    """A record given to a loader lacks a field or holds a bad value."""


def field(record: Mapping[str, Any], name: str, what: str) -> Any:
    try:
        return record[name]
    except KeyError:
        raise LoadError(f"{what}: field {name!r} is missing") from None


def time_field(record: Mapping[str, Any], name: str, what: str, *, required: bool = True) -> datetime | None:
    value = field(record, name, what) if required else record.get(name)
    if value is None:
        if required:
            raise LoadError(f"{what}: {name} must not be null")
        return None
    try:
        return parse_time(value)
    except (TypeError, ValueError) as exc:
        raise LoadError(f"{what}: {name} is not an ISO date-time: {value!r}") from exc


def write_feed(conn: Connection, table: Table, entries: Iterable[tuple[datetime, str]]) -> None:
    """One feed entry per record, oldest change first."""
    rows = ({"kunci": key, "waktu": moment} for moment, key in sorted(entries))
    for batch in chunked(rows, 5000):
        conn.execute(table.insert(), batch)


class IndexesDeferred:
    """Drop the secondary indexes of `metadata` for a bulk insert, rebuild them after
    (building an index once is much cheaper than maintaining it row by row)."""

    def __init__(self, conn: Connection, metadata: Any) -> None:
        self._conn = conn
        self._indexes = [index for table in metadata.sorted_tables for index in table.indexes]

    def __enter__(self) -> IndexesDeferred:
        for index in self._indexes:
            index.drop(self._conn, checkfirst=True)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if exc_info[0] is None:
            for index in self._indexes:
                index.create(self._conn, checkfirst=True)


#: Queues the rows of one record; returns (time of its latest change, its key).
RowWriter = Callable[[Mapping[str, Any], BatchInserter], tuple[datetime, str]]


def bulk_write(
    db_url: str,
    *,
    metadata: MetaData,
    feed: Table,
    records: Iterable[Mapping[str, Any]],
    prepare: Callable[[Connection], RowWriter],
    replace: bool,
) -> int:
    """Write `records` in one transaction (after dropping every table when `replace`,
    then with the indexes deferred) plus one feed entry each; returns their number.
    `prepare` runs first on the connection (lookup tables) and gives the row writer."""
    engine = open_sync_engine(db_url)
    try:
        with engine.begin() as conn:
            if replace:
                metadata.drop_all(conn)
            metadata.create_all(conn)
            write = prepare(conn)
            with IndexesDeferred(conn, metadata) if replace else nullcontext():
                inserter = BatchInserter(conn)
                changes = [write(record, inserter) for record in records]
                inserter.flush()
                write_feed(conn, feed, changes)
    finally:
        engine.dispose()
    return len(changes)
