"""Helpers for the bulk loaders: required fields with a clear error, feed entries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection

from demo.service_common.db import chunked
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
