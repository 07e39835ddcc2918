"""The change feed (`GET /api/v1/perubahan`) and the idempotency table, shared shapes.

The feed is a table with a monotonic integer id; the cursor handed out is that id
as text, so `since=<cursor>` continues exactly after the last entry seen.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from pydantic import Field
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from demo.service_common.bodies import LaxQuery, parse_query
from demo.service_common.errors import JSONResponse, bad_request
from demo.service_common.timeutil import format_time


def feed_table(metadata: MetaData, name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("kunci", String(100), nullable=False),
        Column("waktu", DateTime, nullable=False),
    )


def idempotency_table(metadata: MetaData, name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("kunci", String(200), primary_key=True),
        Column("sidik", String(64), nullable=False),  # sha256 of method, path and body
        Column("status_kode", Integer, nullable=False),
        Column("isi", Text, nullable=False),  # the JSON response body
        Column("dibuat", DateTime, nullable=False),
    )


async def append_change(conn: AsyncConnection, table: Table, kunci: str, waktu: datetime) -> None:
    await conn.execute(table.insert().values(kunci=kunci, waktu=waktu))


class ChangesQuery(LaxQuery):
    since: str | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 100


def _since_id(since: str | None) -> int:
    if since is None or since == "":
        return 0
    if not since.isdigit() or len(since) > 18:
        raise bad_request("since bukan cursor perubahan yang valid")
    return int(since)


def changes_endpoint(table: Table) -> Callable[[Request], Awaitable[Response]]:
    async def changes(request: Request) -> Response:
        query = parse_query(request, ChangesQuery)
        after = _since_id(query.since)
        engine: AsyncEngine = request.state.engine
        stmt = (
            select(table.c.id, table.c.kunci, table.c.waktu)
            .where(table.c.id > after)
            .order_by(table.c.id)
            .limit(query.limit + 1)
        )
        async with engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        has_more = len(rows) > query.limit
        rows = rows[: query.limit]
        return JSONResponse(
            {
                "data": [{"kunci": row.kunci, "waktu": format_time(row.waktu)} for row in rows],
                "next_cursor": str(rows[-1].id) if rows else str(after),
                "has_more": has_more,
            }
        )

    return changes
