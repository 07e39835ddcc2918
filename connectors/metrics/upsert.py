"""`INSERT ... ON CONFLICT DO UPDATE` for the store's two dialects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

DIALECTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def check_dialect(name: str) -> None:
    if name not in DIALECTS:
        raise ValueError(f"the metrics view needs SQLite or PostgreSQL, not {name}")


async def upsert(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert `rows`, replacing every non-key column of rows whose key already exists."""
    if not rows:
        return 0
    stmt: Any = DIALECTS[conn.dialect.name](table)
    keys = [c.name for c in table.primary_key.columns]
    stmt = stmt.on_conflict_do_update(
        index_elements=keys,
        set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys},
    )
    await conn.execute(stmt, list(rows))
    return len(rows)
