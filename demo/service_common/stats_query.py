"""`GET /api/v1/statistik`: counts grouped in SQL, never rows loaded into Python."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection


async def grouped_counts(
    conn: AsyncConnection,
    table: Table,
    conditions: Sequence[ColumnElement[bool]],
    groups: Sequence[tuple[str, str]],
) -> dict[str, Any]:
    """`{"total": n, "per_<label>": {value: n}, ...}` for each (label, column) group,
    plus `per_<label1>_<label2>`: rows `{label1, label2, "jumlah"}` crossing the first two."""
    count = select(func.count()).select_from(table).where(*conditions)
    result: dict[str, Any] = {"total": (await conn.execute(count)).scalar_one()}
    for label, name in groups:
        col = table.c[name]
        stmt = select(col, func.count()).where(*conditions).group_by(col).order_by(col)
        result[f"per_{label}"] = {value: n for value, n in (await conn.execute(stmt)).all()}
    if len(groups) >= 2:
        (label_a, name_a), (label_b, name_b) = groups[0], groups[1]
        first, second = table.c[name_a], table.c[name_b]
        stmt = (
            select(first, second, func.count())
            .where(*conditions)
            .group_by(first, second)
            .order_by(first, second)
        )
        result[f"per_{label_a}_{label_b}"] = [
            {label_a: a, label_b: b, "jumlah": n} for a, b, n in (await conn.execute(stmt)).all()
        ]
    return result
