"""`create_app(settings)`: the hub as one Starlette application."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from auth.ledger import LedgerDraft, LedgerEntry, LedgerWriter, query_entries
from auth.oauth import jwks_endpoint, token_endpoint
from connectors import build_source
from connectors.metrics import MetricsView
from connectors.resilience import guarded
from connectors.surveys import SurveyStore
from connectors.workdays import WorkCalendar
from hub.authentication import Authenticate, AuthenticationMiddleware
from hub.body_limit import BodyLimitMiddleware
from hub.graphql_http import method_not_allowed
from hub.graphql_view import HubGraphQL, RoleDispatcher
from hub.identity import build_identity
from hub.public import public_routes
from hub.ratelimit import RateLimitMiddleware, RateLimits, build_counter
from hub.refresh import MetricsRefresher
from hub.request_context import RequestIdMiddleware
from hub.schemas import SchemaSet, load_access
from hub.settings import ConfigError, Settings
from hub.store import create_store_engine, create_tables
from schema.access import AccessControl
from schema.analytics.service import MetricsService
from schema.analytics.surveys import Surveys
from schema.context import Environment
from schema.region import load_region
from schema.sources import Sources
from schema.types.system import probe_all

MAX_BODY_BYTES = 256 * 1024
SOURCE_IDS = ("population", "licensing", "complaints")


def build_sources(settings: Settings) -> Sources:
    missing = [s for s in SOURCE_IDS if s not in settings.sources]
    if missing:
        raise ConfigError(f"no configuration for source(s) {', '.join(missing)}")
    built = {}
    for source_id in SOURCE_IDS:
        config = settings.sources[source_id].connector_config()
        try:
            built[source_id] = guarded(build_source(source_id, config), settings.sources[source_id].resilience())
        except ValueError as exc:
            raise ConfigError(f"source {source_id}: {exc}") from exc
    return Sources(**built)


def create_app(
    settings: Settings,
    *,
    sources: Sources | None = None,
    authenticate: Authenticate | None = None,
) -> Starlette:
    sources = sources or build_sources(settings)
    identity = build_identity(settings)
    store = create_store_engine(settings.resolved_store_url)
    policy, purposes = load_access(settings)
    schemas = SchemaSet(policy)

    # group commit: concurrent requests share one durable transaction, each gets its own entries
    ledger_writer = LedgerWriter(store)

    async def write_ledger(drafts: Sequence[LedgerDraft]) -> object:
        return await ledger_writer.append(drafts)

    async def read_ledger(**filters: object) -> list[LedgerEntry]:
        return await query_entries(store, **filters)  # type: ignore[arg-type]

    env = Environment(
        sources=sources,
        access=AccessControl(policy, purposes),
        ledger=write_ledger,
        ledger_reader=read_ledger,
        region=load_region(settings.resolved_region_file),
        calendar=WorkCalendar(),
        max_page_size=settings.max_page_size,
        default_page_size=settings.default_page_size,
        trace_sources=settings.trace_sources,
        surveys=Surveys(SurveyStore(store)),
        metrics=MetricsService(view=MetricsView(store), min_group_size=settings.report_min_group_size),
    )
    refresher = MetricsRefresher(env.metrics.view, licensing=sources.licensing, complaints=sources.complaints,
                                 calendar=env.calendar, today=env.today, interval=settings.metrics_refresh_seconds)

    def build_view(roles: frozenset[str]) -> HubGraphQL:
        return HubGraphQL(schemas.for_roles(roles), env=env)

    # Bearer tokens are read on the GraphQL endpoint only (/oauth/token takes client
    # credentials in the same header; the probes and the public page need none).
    limits = settings.rate_limits
    counter = build_counter(settings.redis_url, prefix=limits.key_prefix)
    dispatcher = RoleDispatcher(build_view)
    limited = RateLimitMiddleware(
        dispatcher,
        limits=RateLimits(window=limits.window_seconds, per_client=limits.per_client, per_role=limits.per_role),
        counter=counter,
    ) if limits.enabled else dispatcher
    graphql = AuthenticationMiddleware(limited, authenticate=authenticate or identity.authenticate)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        states = await probe_all(sources.all())
        ready = all(state.up for state in states)
        body = {
            "status": "ready" if ready else "degraded",
            "sources": [
                {"source": s.source, "state": s.state, "detail": s.detail, "responseMs": s.response_ms,
                 "lastError": s.last_error, "lastErrorAt": _iso(s.last_error_at),
                 "lastSuccessAt": _iso(s.last_success_at)}
                for s in states
            ],
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, object]]:
        await create_tables(store)
        refresher.start()
        try:
            yield {"env": env}
        finally:
            await refresher.stop()
            for source in sources.all():
                await source.aclose()
            await identity.aclose()
            await counter.aclose()
            await store.dispose()

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/oauth/token", token_endpoint(issuer=identity.issuer, engine=store), methods=["POST"]),
            Route("/.well-known/jwks.json", jwks_endpoint(issuer=identity.issuer)),
            *public_routes(build_view, env),
        ],
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(BodyLimitMiddleware, max_body_size=MAX_BODY_BYTES),  # 413 as JSON
        ],
        exception_handlers={405: method_not_allowed},
        lifespan=lifespan,
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
