"""Assembly of a sample service: routes + gate middleware + lifespan (engine, write lock),
and the `create_app` factory of a service built from its tables and routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar

from sqlalchemy import MetaData, Table
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route

from demo.service_common.admin import admin_routes
from demo.service_common.db import async_url, open_async_engine
from demo.service_common.errors import exception_handlers
from demo.service_common.faults import Faults, RequestStats
from demo.service_common.feed import changes_endpoint
from demo.service_common.middleware import ServiceMiddleware
from demo.service_common.push import FeedPush, FeedPusher, PushAfterWrites


class ServiceTables(Protocol):
    @property
    def metadata(self) -> MetaData: ...

    @property
    def perubahan(self) -> Table: ...


T = TypeVar("T", bound=ServiceTables)


class AppFactory(Protocol):
    def __call__(
        self, *, db_url: str, api_key: str, latency_ms: int = 0, failure_rate: float = 0.0,
        push: FeedPush | None = None,
    ) -> Starlette: ...


def build_app(
    *,
    routes: list[BaseRoute],
    metadata: MetaData,
    db_url: str,
    api_key: str,
    latency_ms: int = 0,
    failure_rate: float = 0.0,
    faults: Faults | None = None,
    on_start: Callable[[], None] | None = None,
    push: FeedPush | None = None,
    feed: Table | None = None,
) -> Starlette:
    """`request.state.engine` and `request.state.write_lock` exist inside the lifespan;
    `app.state.faults` and `app.state.stats` always. `faults` may be given (a service
    whose handlers read them too); `on_start` runs in the lifespan, before serving.
    `push` (with the change `feed` table): a signed webhook to the hub after each
    committed write (demo.service_common.push; `app.state.pusher`)."""
    if not api_key:
        raise ValueError("api_key must not be empty")
    async_url(db_url)  # an unparsable URL fails here, not at the first request
    if faults is None:
        faults = Faults(latency_ms=latency_ms, failure_rate=failure_rate)
    stats = RequestStats()
    all_routes = [*admin_routes(), *routes]
    if push is not None and feed is None:
        raise ValueError("push needs the change feed's table")
    pusher = FeedPusher(push, feed) if push is not None and feed is not None else None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        engine = open_async_engine(db_url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(metadata.create_all)
            if on_start is not None:
                on_start()
            if pusher is not None:
                pusher.start(engine)
            yield {"engine": engine, "write_lock": asyncio.Lock()}
        finally:
            if pusher is not None:
                await pusher.stop()
            await engine.dispose()

    app = Starlette(
        routes=all_routes,
        middleware=[
            *([Middleware(PushAfterWrites, pusher=pusher)] if pusher is not None else []),
            Middleware(
                ServiceMiddleware, api_key=api_key, faults=faults, stats=stats, routes=all_routes
            ),
        ],
        exception_handlers=exception_handlers(),
        lifespan=lifespan,
    )
    app.state.faults = faults
    app.state.stats = stats
    app.state.pusher = pusher
    return app


def service_app_factory(
    tables: Callable[[], T], routes: Callable[[T], list[BaseRoute]]
) -> AppFactory:
    """The `create_app` of a service: fresh `tables()`, the service's `routes` for them
    and its change feed at `GET /api/v1/perubahan`, assembled by `build_app`."""

    def create_app(
        *, db_url: str, api_key: str, latency_ms: int = 0, failure_rate: float = 0.0,
        push: FeedPush | None = None,
    ) -> Starlette:
        t = tables()
        feed = Route("/api/v1/perubahan", changes_endpoint(t.perubahan), methods=["GET"])
        return build_app(
            routes=[*routes(t), feed],
            metadata=t.metadata,
            db_url=db_url,
            api_key=api_key,
            latency_ms=latency_ms,
            failure_rate=failure_rate,
            push=push,
            feed=t.perubahan,
        )

    return create_app
