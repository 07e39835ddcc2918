"""`create_app(settings)`: the hub as one Starlette application.

    request ─► RequestId ─► Metrics ─► UnexpectedError (500 as JSON) ─► BodyLimit ─► route
      /graphql: Authentication ─► RateLimit ─► RoleDispatcher ─► the role set's schema
                (a `documentId` or APQ hash is first turned into its document, and the
                policy's persisted-only rule applied: hub.persisted.documents)
                (public operations count against their own limits: schema.quota)
      /graphql (WebSocket): subscriptions, authenticated in connection_init
                (hub.subscription_socket); events from hub.events
      /hooks/sources/{source}: EntryPointLimit ─► BodyLimit (4 KB) ─► a source's signed
                wake-up: the feeds' reader reads that source now (hub.events.hooks)
      /oauth/token: EntryPointLimit ─► the hub's issuer (failed client authentications
                counted: hub.public_limits);  /.well-known/jwks.json
      /.well-known/ledger-checkpoint: the latest signed head of the access ledger
      /graphiql-assets: the vendored GraphiQL the IDE at GET /graphql loads (hub.graphiql)
      /healthz, /readyz: probes;  /metrics: Prometheus
      /, /survei: EntryPointLimit ─► the public page
      /warga: the citizen page (sign-in by OpenID Connect, apply, my applications: hub.citizen)
    every refusal on the way has the one JSON error shape (hub.json_errors)
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Mount, Route, WebSocketRoute, request_response
from starlette.types import ASGIApp

from auth.ledger import CheckpointFile, LedgerWriter
from auth.oauth import jwks_endpoint, token_endpoint
from hub.authentication import Authenticate, AuthenticationMiddleware
from hub.body_limit import BodyLimitMiddleware
from hub.citizen.pages import UPLOAD_PATHS as CITIZEN_UPLOADS
from hub.citizen.routes import citizen_routes
from hub.document_download import download_document
from hub.environment import build_environment, build_sources
from hub.events import hooks
from hub.events.service import EventService
from hub.graphiql import ASSETS_PATH, graphiql_assets
from hub.graphql_view import HubGraphQL, RoleDispatcher
from hub.heap import settle_heap
from hub.identity import build_identity, cursor_key
from hub.uploads import MAX_UPLOAD_BYTES
from hub.json_errors import UnexpectedErrorMiddleware, http_error
from hub.ledger_anchor import CHECKPOINT_PATH, HeadAnchor
from hub.metrics import HubMetrics, MetricsMiddleware
from hub.metrics_access import main_port_routes, metrics_server
from hub.pool_metrics import watch_pools
from hub.migrations import prepare_store
from hub.notifications.outbox import StorePreferences, enqueue
from hub.notifications.sender import NotificationSender
from hub.persisted.documents import PersistedDocuments
from hub.probes import healthz, readyz
from hub.public import public_routes
from hub.public_limits import SOURCE_HOOK, TOKEN, ClientAuthLimits, PublicQuota, public_limiter
from hub.ratelimit import EntryPointLimitMiddleware, RateLimitMiddleware, RateLimits, build_counter
from hub.redis_health import RedisHealth
from hub.refresh import MetricsRefresher
from hub.request_context import RequestIdMiddleware
from hub.revocation import RevokedClients
from hub.schemas import ROLE_SETS_KEPT, SchemaSet, load_access
from hub.settings import ConfigError, Settings
from hub.shutdown import ShutdownHooks
from hub.store import create_store_engine
from hub.subscription_socket import SocketGraphQL, SubscriptionSockets
from hub.switching import switch_interval
from hub.telemetry import Telemetry, start_telemetry
from schema.sources import Sources

MAX_BODY_BYTES = 256 * 1024


def create_app(
    settings: Settings,
    *,
    sources: Sources | None = None,
    authenticate: Authenticate | None = None,
    telemetry: Telemetry | None = None,
    metrics_port_served: bool = True,
) -> Starlette:
    """`telemetry`: traces to a given exporter (tests); else as the settings say (hub.telemetry).
    `metrics_port_served=False`: a worker of `hub serve --workers`, whose supervisor serves
    `metrics_port` (hub.workers)."""
    if telemetry is not None:
        telemetry.instrument()
    else:  # before the sources' clients and the store's engine are made, so that they are traced
        telemetry = start_telemetry(settings)
    sources = sources or build_sources(settings)
    store = create_store_engine(settings.resolved_store_url)
    metrics = HubMetrics()
    redis_health = RedisHealth(registry=metrics.registry)
    revoked = RevokedClients(store, poll_seconds=settings.revocation_poll_seconds, redis_url=settings.redis_url,
                             channel=settings.revocation_channel, health=redis_health)
    policy, purposes = load_access(settings)
    identity = build_identity(settings, known_roles=policy.grantable_roles, revoked=revoked)
    schemas = SchemaSet(policy, federation=settings.federation)
    anchor = HeadAnchor(
        store,
        CheckpointFile(settings.resolved_checkpoint_file),
        issuer=identity.issuer,
        metrics=metrics,
        interval_seconds=settings.ledger_checkpoints.interval_seconds,
        every_entries=settings.ledger_checkpoints.every_entries,
    )
    ledger_writer = LedgerWriter(store, on_commit=anchor.entries_committed)
    limits = settings.rate_limits
    counter = build_counter(settings.redis_url, prefix=limits.key_prefix, health=redis_health)
    limiter = public_limiter(counter, limits.public) if limits.enabled else None
    quota = (PublicQuota(limiter, anonymous_surveys_per_day=limits.public.anonymous_surveys_per_day)
             if limiter is not None else None)
    notify = settings.notifications
    if (notify.url is None) != (notify.secret is None):
        raise ConfigError("notifications: set both url and secret, or neither")
    events = EventService(settings.events, store=store, sources=sources, redis_url=settings.redis_url,
                          on_logged=enqueue if notify.url else None,
                          before_changed=lambda: refresher.refresh_once(), redis_health=redis_health)
    env = build_environment(
        settings, sources=sources, store=store, policy=policy, purposes=purposes, ledger_writer=ledger_writer,
        quota=quota,
        cursor_key=cursor_key(settings, identity.issuer),
        events=events.hub,
        notifications=StorePreferences(store),
    )
    sender = (NotificationSender(notify, store, active=lambda: events.readers.state.holding,
                                 ledger=ledger_writer.submit, metrics=metrics) if notify.url else None)
    refresher = MetricsRefresher(
        env.metrics.view,
        licensing=sources.licensing,
        complaints=sources.complaints,
        calendar=env.calendar,
        today=env.today,
        interval=settings.metrics_refresh_seconds,
    )

    documents = PersistedDocuments(store, policy, settings.persisted_queries,
                                   on_apq=lambda outcome, n: metrics.apq_registrations.labels(outcome).inc(n))

    def build_view(roles: frozenset[str]) -> HubGraphQL:
        return HubGraphQL(schemas.for_roles(roles), env=env, documents=documents, metrics=metrics)

    # Bearer tokens are read on the GraphQL endpoint only (/oauth/token takes client
    # credentials in the same header; the probes and the public page need none).
    dispatcher = RoleDispatcher(build_view, role_set=schemas.role_set, kept=ROLE_SETS_KEPT)
    graphql: ASGIApp = dispatcher
    sockets = SubscriptionSockets(revoked=revoked, max_per_principal=settings.events.max_connections_per_principal)
    rate_limited: RateLimitMiddleware | None = None
    if limits.enabled:
        graphql = rate_limited = RateLimitMiddleware(
            graphql,
            limits=RateLimits(window=limits.window_seconds, per_client=limits.per_client, per_role=limits.per_role),
            counter=counter,
        )
    socket_view = SocketGraphQL(
        dispatcher, env=env, authenticate=authenticate or identity.authenticate, sockets=sockets,
        max_operations=settings.events.max_operations_per_connection,
        init_timeout=settings.events.connection_init_timeout_seconds,
        allowed_origins=settings.events.allowed_origins,
        rate_limit=rate_limited.check if rate_limited is not None else None,  # each operation is a request
        group_subscribers=settings.events.group_subscribers, subscriber_queue=settings.events.subscriber_queue,
    )
    graphql = AuthenticationMiddleware(graphql, authenticate=authenticate or identity.authenticate)

    oauth: ASGIApp = request_response(token_endpoint(
        issuer=identity.issuer, engine=store, guard=ClientAuthLimits(limiter) if limiter is not None else None
    ))
    if limiter is not None:
        oauth = EntryPointLimitMiddleware(oauth, limiter=limiter, name=TOKEN)

    source_hooks = hooks.SourceHooks(
        settings.events.webhook_secrets, wake=events.wake,
        count=lambda source, outcome: metrics.source_webhooks.labels(source, outcome).inc())
    source_hook: ASGIApp = BodyLimitMiddleware(request_response(source_hooks.endpoint),
                                               max_body_size=hooks.HOOK_BODY_BYTES)
    if limiter is not None:
        source_hook = EntryPointLimitMiddleware(source_hook, limiter=limiter, name=SOURCE_HOOK)

    # what holds long-lived connections registers here to close them on shutdown (hub.shutdown)
    shutdown_hooks = ShutdownHooks(grace_seconds=settings.shutdown_grace_seconds)
    shutdown_hooks.register(lambda: sockets.close_all(1001, "The server is shutting down"),
                            name="subscription sockets")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, object]]:
        try:
            await prepare_store(store, settings.store_migrations)  # migrated, or refused (hub.migrations)
        except BaseException:
            await store.dispose()
            raise
        await revoked.start()
        await anchor.start()
        refresher.start()
        await events.start()
        sockets.start()
        if sender is not None:
            sender.start()
        if settings.freeze_heap_after_start:
            settle_heap(settings.gc_thresholds)
        try:
            async with metrics_server(settings, metrics.endpoint, bind=metrics_port_served) as app.state.metrics_port:
                with switch_interval(settings.switch_interval_ms):
                    yield {"env": env}
        finally:
            await shutdown_hooks.run()  # done already under hub.shutdown's server
            if sender is not None:
                await sender.stop()
            await sockets.stop()
            await events.stop()
            await refresher.stop()
            await revoked.stop()
            for source in sources.all():
                await source.aclose()
            await identity.aclose()
            await counter.aclose()
            await ledger_writer.aclose()
            await anchor.stop()  # the head after the last commit
            await store.dispose()
            if telemetry is not None:
                telemetry.shutdown()  # the last spans exported

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Mount(ASSETS_PATH, graphiql_assets(), name="graphiql-assets"),
            WebSocketRoute("/graphql", socket_view),
            Route("/healthz", healthz),
            Route("/readyz", readyz(sources)),
            *main_port_routes(settings, metrics.endpoint),  # unless on a port of its own
            Route("/oauth/token", oauth, methods=["POST"]),
            Route(hooks.PATH, source_hook, methods=["POST"]),
            Route("/.well-known/jwks.json", jwks_endpoint(issuer=identity.issuer)),
            Route(CHECKPOINT_PATH, anchor.endpoint),
            Route("/documents/{token}", AuthenticationMiddleware(  # a download counts as a request
                rate_limited.wrapping(request_response(download_document)) if rate_limited is not None
                else request_response(download_document), authenticate=authenticate or identity.authenticate
            ), methods=["GET"]),
            *public_routes(build_view, env, limiter, ledger_checkpoint=lambda: anchor.latest),
            *citizen_routes(settings, build_view, env, store, limiter),  # /warga, when enabled (hub.citizen)
        ],
        middleware=[
            *([telemetry.middleware()] if telemetry is not None else []),  # the request's server span
            Middleware(RequestIdMiddleware),
            Middleware(MetricsMiddleware, metrics=metrics),
            Middleware(UnexpectedErrorMiddleware),  # any exception: 500 INTERNAL as JSON
            Middleware(BodyLimitMiddleware, max_body_size=MAX_BODY_BYTES,  # 413 as JSON
                       upload_limits={"/graphql": MAX_UPLOAD_BYTES,  # documents (hub.uploads)
                                      **dict.fromkeys(CITIZEN_UPLOADS, MAX_UPLOAD_BYTES)}),
        ],
        exception_handlers={HTTPException: http_error},  # 404, 405, ... as JSON
        lifespan=lifespan,
    )
    app.state.shutdown_hooks = shutdown_hooks
    app.state.telemetry = telemetry  # None when tracing is off
    # open subscription sockets (closed with 1001 by the shutdown hook registered above),
    # and the events service (readers, bus) for operators and tests
    app.state.subscription_sockets = sockets
    app.state.subscription_groups = socket_view.groups  # None: every subscriber runs alone
    app.state.persisted_documents = documents  # hub.persisted.documents (its APQ store: `.apq`)
    app.state.events = events
    app.state.notifications = sender
    app.state.metrics_refresher = refresher
    groups = socket_view.groups
    metrics.watch_events(sockets=lambda: len(sockets), delivered=lambda: events.hub.delivered,
                         last_id=lambda: events.hub.last_id, holding=lambda: events.readers.state.holding,
                         groups=lambda: len(groups) if groups is not None else 0,
                         grouped=lambda: groups.members if groups is not None else 0)
    watch_pools(metrics, sources.all())  # the sources' HTTP pools (hub.pool_metrics)
    return app
