"""Assembly of a sample service: routes + gate middleware + lifespan (engine, write lock)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import MetaData
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from demo.service_common.admin import admin_routes
from demo.service_common.db import async_url, open_async_engine
from demo.service_common.errors import exception_handlers
from demo.service_common.faults import Faults, RequestStats
from demo.service_common.middleware import ServiceMiddleware


def build_app(
    *,
    routes: list[BaseRoute],
    metadata: MetaData,
    db_url: str,
    api_key: str,
    latency_ms: int = 0,
    failure_rate: float = 0.0,
) -> Starlette:
    """`request.state.engine` and `request.state.write_lock` exist inside the lifespan;
    `app.state.faults` and `app.state.stats` always."""
    if not api_key:
        raise ValueError("api_key must not be empty")
    async_url(db_url)  # an unparsable URL fails here, not at the first request
    faults = Faults(latency_ms=latency_ms, failure_rate=failure_rate)
    stats = RequestStats()
    all_routes = [*admin_routes(), *routes]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        engine = open_async_engine(db_url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(metadata.create_all)
            yield {"engine": engine, "write_lock": asyncio.Lock()}
        finally:
            await engine.dispose()

    app = Starlette(
        routes=all_routes,
        middleware=[
            Middleware(
                ServiceMiddleware, api_key=api_key, faults=faults, stats=stats, routes=all_routes
            )
        ],
        exception_handlers=exception_handlers(),
        lifespan=lifespan,
    )
    app.state.faults = faults
    app.state.stats = stats
    return app
