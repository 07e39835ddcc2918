"""Endpoint bodies both sample services share: search, one record, idempotent writes,
status changes and statistics over a `Collection`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Table
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from demo.service_common.bodies import (
    PeriodQuery,
    SearchBody,
    StatusBody,
    parse_body,
    parse_query,
    period_conditions,
)
from demo.service_common.collection import Collection, change_status, get_one, search
from demo.service_common.errors import JSONResponse, not_found
from demo.service_common.idempotency import (
    Action,
    fingerprint,
    idempotency_key,
    idempotent_write,
)
from demo.service_common.stats_query import grouped_counts

B = TypeVar("B", bound=SearchBody)


def key_conditions(
    table: Table, body: BaseModel, names: Sequence[str]
) -> list[ColumnElement[bool]]:
    """`column IN (…)` for each list field of `body` that is given (same name as its column)."""
    conditions: list[ColumnElement[bool]] = []
    for name in names:
        values = getattr(body, name)
        if values is not None:
            conditions.append(table.c[name].in_(values))
    return conditions


async def search_response(
    request: Request,
    coll: Collection,
    model: type[B],
    conditions: Callable[[B], list[ColumnElement[bool]]],
) -> Response:
    """`POST …/cari`: one keyset page of the records matching the body."""
    body = await parse_body(request, model)
    engine: AsyncEngine = request.state.engine
    async with engine.connect() as conn:
        page = await search(
            conn,
            coll,
            conditions(body),
            limit=body.limit,
            cursor=body.cursor,
            include_total=body.include_total,
        )
    return JSONResponse(page)


async def one_response(request: Request, coll: Collection, *, param: str, noun: str) -> Response:
    """`GET …/{key}`: one record, or 404 `"<noun> <key> tidak ditemukan"`."""
    number = request.path_params[param]
    engine: AsyncEngine = request.state.engine
    async with engine.connect() as conn:
        record = await get_one(conn, coll, number)
    if record is None:
        raise not_found(f"{noun} {number} tidak ditemukan")
    return JSONResponse(record)


async def write_response(request: Request, idempotensi: Table, body: BaseModel, action: Action) -> Response:
    """Run `action` once per `Idempotency-Key` (a repeat gets the first answer)."""
    status_code, payload = await idempotent_write(
        request.state.engine,
        request.state.write_lock,
        idempotensi,
        key=idempotency_key(request),
        sidik=fingerprint(request, body.model_dump(mode="json")),
        action=action,
    )
    return JSONResponse(payload, status_code=status_code)


async def status_response(
    request: Request,
    coll: Collection,
    transitions: Mapping[str, frozenset[str]],
    idempotensi: Table,
    *,
    param: str,
    on_final: Callable[[RowMapping, datetime], dict[str, Any]] | None = None,
) -> Response:
    """`POST …/{key}/status`: an idempotent status change along `transitions`."""
    number = request.path_params[param]
    body = await parse_body(request, StatusBody)

    async def action(conn: Any) -> tuple[int, Any]:
        record = await change_status(
            conn,
            coll,
            transitions,
            key=number,
            status=body.status,
            history={"catatan": body.catatan, "petugas": body.petugas},
            on_final=on_final,
        )
        return 200, record

    return await write_response(request, idempotensi, body, action)


async def stats_response(
    request: Request,
    table: Table,
    model: type[PeriodQuery],
    *,
    time_column: str,
    lists: tuple[str, ...],
    groups: list[tuple[str, str]],
) -> Response:
    """`GET /api/v1/statistik`: counts grouped by `groups` over a period, narrowed by
    the list parameters `lists` (each named like its column)."""
    query = parse_query(request, model, lists=lists)
    c = table.c
    conditions = period_conditions(c[time_column], query.dari, query.sampai)
    for name in lists:
        values = getattr(query, name)
        if values:
            conditions.append(c[name].in_(values))
    engine: AsyncEngine = request.state.engine
    async with engine.connect() as conn:
        counts = await grouped_counts(conn, table, conditions, groups)
    return JSONResponse(counts)
