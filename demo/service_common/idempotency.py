"""Idempotent writes: a repeated `Idempotency-Key` returns the first response.

One write at a time per service (an asyncio lock; the services are single-process),
inside one transaction that also stores the response under the key, so a write and
its key are committed together or not at all. Only successful responses are stored:
a refused write wrote nothing, so repeating it is harmless.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.requests import Request

from demo.service_common.errors import IDEMPOTENCY_KEY_REUSED, ApiError, bad_request
from demo.service_common.timeutil import now

Action = Callable[[AsyncConnection], Awaitable[tuple[int, Any]]]

MAX_KEY_LENGTH = 200


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise bad_request(f"Idempotency-Key harus 1-{MAX_KEY_LENGTH} karakter")
    return key


def fingerprint(request: Request, body: dict[str, Any]) -> str:
    canonical = orjson.dumps(
        [request.method, request.url.path, body], option=orjson.OPT_SORT_KEYS
    )
    return hashlib.sha256(canonical).hexdigest()


async def _stored(conn: AsyncConnection, table: Table, key: str, sidik: str) -> tuple[int, Any] | None:
    row = (
        await conn.execute(
            select(table.c.sidik, table.c.status_kode, table.c.isi).where(table.c.kunci == key)
        )
    ).first()
    if row is None:
        return None
    if row.sidik != sidik:
        raise ApiError(
            422,
            IDEMPOTENCY_KEY_REUSED,
            "Idempotency-Key ini sudah dipakai untuk permintaan lain",
        )
    return row.status_kode, orjson.loads(row.isi)


async def idempotent_write(
    engine: AsyncEngine,
    lock: asyncio.Lock,
    table: Table,
    *,
    key: str | None,
    sidik: str,
    action: Action,
) -> tuple[int, Any]:
    async with lock:
        try:
            async with engine.begin() as conn:
                if key is not None and (stored := await _stored(conn, table, key, sidik)):
                    return stored
                status_code, body = await action(conn)
                if key is not None and 200 <= status_code < 300:
                    await conn.execute(
                        table.insert().values(
                            kunci=key,
                            sidik=sidik,
                            status_kode=status_code,
                            isi=orjson.dumps(body).decode(),
                            dibuat=now(),
                        )
                    )
                return status_code, body
        except IntegrityError:
            if key is None:
                raise
            # another process stored the same key first: answer what it answered
            async with engine.connect() as conn:
                stored = await _stored(conn, table, key, sidik)
            if stored is None:
                raise
            return stored
