"""Prometheus metrics of one hub instance, served at `/metrics`.

HTTP requests (count and latency by route and status), GraphQL errors by code, source
calls (count, items shown to callers, latency, stale answers by source and operation,
from each request's source trace), access-ledger entries written and ledger head
checkpoints (by outcome, and the seq of the latest). One registry per app:
nothing global, so several apps in one process (tests) do not mix their figures.

Under `hub serve --workers N` the supervisor sets `PROMETHEUS_MULTIPROC_DIR` to a private
directory before it spawns the workers (hub.workers): prometheus_client's multiprocess
mode, where every worker writes its values to files there and a scrape (`aggregated()`)
sums the counters and histograms of all workers, dead ones included, so that a total
never goes back; each gauge says how its workers' values combine (`multiprocess_mode`).
The gauges read from live objects are written every `LIVE_GAUGE_SECONDS` in that mode,
as a scrape answered by one process cannot call the functions of another.
"""

from __future__ import annotations

import collections
import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: methods counted by name; any other (h11 accepts any token) counts as OTHER, so that a
#: client cannot add label series at will
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
ROUTES = ("/graphql", "/healthz", "/readyz", "/metrics", "/oauth/token", "/.well-known/jwks.json",
          "/.well-known/ledger-checkpoint", "/")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LIVE_GAUGE_SECONDS = 1.0


def multiprocess_dir() -> str | None:
    """The directory of prometheus_client's multiprocess mode, when this process is one
    of `hub serve --workers N`."""
    return os.environ.get(MULTIPROC_ENV) or None


def write_periodically(write: Callable[[], None], *, name: str) -> None:
    """Multiprocess mode: call `write` now and every `LIVE_GAUGE_SECONDS` in a daemon
    thread, so that live figures reach the shared files (a failed round is skipped: an
    object not started yet, or gone)."""

    def run() -> None:
        while True:
            try:
                write()
            except Exception:
                pass
            time.sleep(LIVE_GAUGE_SECONDS)

    threading.Thread(target=run, name=name, daemon=True).start()


def aggregated(path: str) -> bytes:
    """One scrape of every process that wrote to `path` (multiprocess mode)."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=path)
    return generate_latest(registry)


class HubMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "simpul_http_requests", "HTTP requests", ["route", "method", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "simpul_http_request_seconds", "HTTP request latency", ["route"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.errors = Counter("simpul_graphql_errors", "GraphQL errors by code", ["code"], registry=self.registry)
        self.source_calls = Counter(
            "simpul_source_calls", "Calls to source systems", ["source", "operation"], registry=self.registry
        )
        self.source_items = Counter(
            # what callers were shown: a count before the policy would disclose withheld records
            "simpul_source_items", "Records from source systems shown to callers", ["source", "operation"],
            registry=self.registry,
        )
        self.source_seconds = Counter(
            "simpul_source_seconds", "Time spent in source calls", ["source", "operation"], registry=self.registry
        )
        self.source_stale = Counter(
            "simpul_source_stale_answers", "Answers served stale from the cache", ["source", "operation"],
            registry=self.registry,
        )
        self.ledger_entries = Counter(
            "simpul_ledger_entries", "Access-ledger entries written", ["action"], registry=self.registry
        )
        self.ledger_checkpoints = Counter(
            "simpul_ledger_checkpoints", "Signed ledger head checkpoints by outcome "
            "(written, unchanged, empty, refused, failed)", ["outcome"], registry=self.registry,
        )
        self.ledger_checkpoint_seq = Gauge(
            "simpul_ledger_checkpoint_seq", "The chain seq of the latest signed head checkpoint",
            registry=self.registry, multiprocess_mode="max",
        )
        # real time (issue 25): read at scrape time from the live objects (`watch_events`)
        self.subscription_sockets = Gauge(
            "simpul_subscription_sockets", "Open subscription sockets on this instance", registry=self.registry,
            multiprocess_mode="livesum")
        self.subscription_groups = Gauge(
            "simpul_subscription_groups", "Shared runs of subscriptions (live groups) on this instance",
            registry=self.registry, multiprocess_mode="livesum")
        self.subscription_grouped = Gauge(
            "simpul_subscription_grouped", "Subscriptions served by a shared run on this instance",
            registry=self.registry, multiprocess_mode="livesum")
        self.events_delivered = Gauge(
            "simpul_events_delivered", "Events this instance delivered to its subscribers since it started",
            registry=self.registry, multiprocess_mode="livesum")
        self.event_last_id = Gauge("simpul_event_last_id", "The newest event id this instance delivered",
                                   registry=self.registry, multiprocess_mode="livemax")
        self.feed_lease = Gauge("simpul_feed_lease_held", "1 while this instance reads the sources' change feeds",
                                registry=self.registry, multiprocess_mode="livemax")
        self.notifications = Gauge(
            "simpul_notifications", "Notification outbox messages by state (pending, delivered, failed), "
            "as last counted", ["state"], registry=self.registry,
            multiprocess_mode="livemostrecent")
        self.apq_registrations = Counter(
            "simpul_apq_registrations", "Automatic persisted queries by outcome: kept, too_large (not kept), "
            "evicted and expired (removed by the store's bounds)", ["outcome"], registry=self.registry)
        self.source_webhooks = Counter(
            "simpul_source_webhooks", "Sources' webhooks (wake-ups) by source and outcome: accepted, "
            "bad_signature, unknown (no such source, or none with a secret)", ["source", "outcome"],
            registry=self.registry)
        self.notification_attempts = Counter(
            "simpul_notification_attempts", "Webhook deliveries to the notification gateway by outcome",
            ["outcome"], registry=self.registry)

    def watch_events(self, *, sockets: Callable[[], int], delivered: Callable[[], int], last_id: Callable[[], int],
                     holding: Callable[[], bool], groups: Callable[[], int] = lambda: 0,
                     grouped: Callable[[], int] = lambda: 0) -> None:
        live: list[tuple[Gauge, Callable[[], float]]] = [
            (self.subscription_sockets, lambda: float(sockets())),
            (self.subscription_groups, lambda: float(groups())),
            (self.subscription_grouped, lambda: float(grouped())),
            (self.events_delivered, lambda: float(delivered())),
            (self.event_last_id, lambda: float(last_id())),
            (self.feed_lease, lambda: 1.0 if holding() else 0.0),
        ]
        if multiprocess_dir() is None:
            for gauge, read in live:
                gauge.set_function(read)
            return

        # multiprocess mode: set_function is not written to the shared files
        def write() -> None:
            for gauge, read in live:
                with contextlib.suppress(Exception):  # an object not started yet: the next round
                    gauge.set(read())

        write_periodically(write, name="simpul-live-gauges")

    def observe_operation(
        self,
        *,
        sources: Iterable[Mapping[str, Any]],
        error_codes: Iterable[str],
        ledger_actions: Iterable[str],
    ) -> None:
        for tally in sources:
            labels = (tally["source"], tally["operation"])
            self.source_calls.labels(*labels).inc(tally["calls"])
            self.source_items.labels(*labels).inc(tally["items"])
            self.source_seconds.labels(*labels).inc(tally["ms"] / 1000)
            if tally.get("stale"):
                self.source_stale.labels(*labels).inc()
        for code in error_codes:
            self.errors.labels(code).inc()
        for action, count in collections.Counter(ledger_actions).items():  # a page of 1,000: one call, not 1,000
            self.ledger_entries.labels(action).inc(count)

    async def endpoint(self, request: Request) -> Response:
        path = multiprocess_dir()
        body = aggregated(path) if path is not None else generate_latest(self.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Counts and times every HTTP request by route (unknown paths count as `other`)."""

    def __init__(self, app: ASGIApp, *, metrics: HubMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = scope["path"] if scope["path"] in ROUTES else "other"
        status = 500
        started = time.perf_counter()

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            metrics = self.metrics
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            metrics.requests.labels(route, method, str(status)).inc()
            metrics.latency.labels(route).observe(time.perf_counter() - started)
