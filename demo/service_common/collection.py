"""A collection of records with child lists, read with keyset pagination.

A service describes its collection once (parent select, key, time, child tables,
row shaping); the functions here answer search, look-up by key and status change:

    search(conn, coll, conditions, ...)  one query for the page (limit + 1 rows),
                                         one per child table for the whole page,
                                         one COUNT when the total is asked for
    change_status(conn, coll, ...)       workflow check, update, history, feed
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, func, select, tuple_
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from demo.service_common.cursor import decode_cursor, encode_cursor
from demo.service_common.errors import INVALID_TRANSITION, ApiError, bad_request, not_found
from demo.service_common.feed import append_change
from demo.service_common.timeutil import format_time, now


@dataclass(frozen=True, slots=True)
class Child:
    """A list inside each record, e.g. `riwayat`, stored in its own table."""

    name: str
    table: Table
    fk: str  # column holding the parent's key
    fields: tuple[str, ...]  # columns returned, in order
    times: frozenset[str] = frozenset()  # of those, the ones formatted as times


@dataclass(frozen=True, slots=True)
class Collection:
    table: Table  # the parent table (filters refer to its columns)
    base: Select[Any]  # parent columns, joins included
    key: str  # parent key column name, e.g. "no_permohonan"
    time: str  # ordering time column name, e.g. "tgl_pengajuan"
    shape: Callable[[RowMapping], dict[str, Any]]  # parent row -> record (no children)
    children: tuple[Child, ...] = ()
    history: Child | None = None  # where status changes are appended
    feed: Table | None = None
    final_statuses: frozenset[str] = field(default_factory=frozenset)


async def _children(
    conn: AsyncConnection, child: Child, keys: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    fk = child.table.c[child.fk]
    columns = [child.table.c[name] for name in child.fields]
    stmt = select(fk, *columns).where(fk.in_(keys)).order_by(fk, child.table.c.id)
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in (await conn.execute(stmt)).all():
        item = {
            name: format_time(value) if name in child.times else value
            for name, value in zip(child.fields, row[1:], strict=True)
        }
        grouped[row[0]].append(item)
    return grouped


async def assemble(
    conn: AsyncConnection, coll: Collection, rows: Sequence[RowMapping]
) -> list[dict[str, Any]]:
    keys = [row[coll.key] for row in rows]
    records = [coll.shape(row) for row in rows]
    if not keys:
        return records
    for child in coll.children:
        grouped = await _children(conn, child, keys)
        for key, record in zip(keys, records, strict=True):
            record[child.name] = grouped.get(key, [])
    return records


async def search(
    conn: AsyncConnection,
    coll: Collection,
    conditions: Sequence[ColumnElement[bool]],
    *,
    limit: int,
    cursor: str | None = None,
    include_total: bool = False,
) -> dict[str, Any]:
    time_col, key_col = coll.table.c[coll.time], coll.table.c[coll.key]
    stmt = coll.base.where(*conditions)
    if cursor:
        after_time, after_key = decode_cursor(cursor)
        stmt = stmt.where(tuple_(time_col, key_col) < tuple_(after_time, after_key))
    stmt = stmt.order_by(time_col.desc(), key_col.desc()).limit(limit + 1)
    rows = (await conn.execute(stmt)).mappings().all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    total = None
    if include_total:
        count = select(func.count()).select_from(coll.table).where(*conditions)
        total = (await conn.execute(count)).scalar_one()
    last = rows[-1] if rows else None
    return {
        "data": await assemble(conn, coll, rows),
        "next_cursor": encode_cursor(last[coll.time], last[coll.key]) if has_more and last else None,
        "total": total,
    }


async def get_one(conn: AsyncConnection, coll: Collection, key: str) -> dict[str, Any] | None:
    stmt = coll.base.where(coll.table.c[coll.key] == key)
    rows = (await conn.execute(stmt)).mappings().all()
    records = await assemble(conn, coll, rows)
    return records[0] if records else None


def check_transition(
    transitions: Mapping[str, frozenset[str]], current: str, new: str
) -> None:
    if new not in transitions:
        raise bad_request(f"status tidak dikenal: {new}")
    if new not in transitions.get(current, frozenset()):
        raise ApiError(409, INVALID_TRANSITION, f"tidak boleh dari {current} ke {new}")


async def change_status(
    conn: AsyncConnection,
    coll: Collection,
    transitions: Mapping[str, frozenset[str]],
    *,
    key: str,
    status: str,
    history: Mapping[str, Any],
    on_final: Callable[[RowMapping, datetime], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Move one record to `status`; `history` holds the extra history columns."""
    assert coll.history is not None and coll.feed is not None
    table = coll.table
    key_col = table.c[coll.key]
    current = (await conn.execute(select(table).where(key_col == key))).mappings().first()
    if current is None:
        raise not_found(f"{key} tidak ditemukan")
    check_transition(transitions, current["status"], status)
    moment = now()
    values: dict[str, Any] = {"status": status}
    if status in coll.final_statuses and on_final is not None:
        values.update(on_final(current, moment))
    await conn.execute(table.update().where(key_col == key).values(**values))
    await conn.execute(
        coll.history.table.insert().values(
            {coll.history.fk: key, "status": status, "waktu": moment, **history}
        )
    )
    await append_change(conn, coll.feed, key, moment)
    record = await get_one(conn, coll, key)
    assert record is not None
    return record
