"""OpenTelemetry traces (setting `tracing`; off by default).

    on:  a server span per HTTP request (ASGI), a client span per source call (httpx2,
         and httpx for the identity provider's keys), a span per SQL statement on the hub
         store and the SQL sources (SQLAlchemy); exported over OTLP as the standard
         OTEL_* variables say (OTEL_EXPORTER_OTLP_ENDPOINT or ..._TRACES_ENDPOINT,
         ..._HEADERS, ..._PROTOCOL is http/protobuf, OTEL_SERVICE_NAME (default
         simpul-hub), OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER[_ARG], OTEL_BSP_*).
         OTEL_SDK_DISABLED=true turns it off again.
    off: nothing is imported, patched or wrapped; no middleware is added.

The packages are the `telemetry` extra (`pip install 'simpul[telemetry]'`); `tracing =
true` without them stops the start with a message saying so.

No personal data in spans: before a span reaches the exporter, its attributes and its
events' attributes are scrubbed (`scrub`): URLs lose their query strings (a GET
request's query and variables), `url.query` and captured headers are dropped, and any
run of 16 or more digits (a NIK, a family card number) is replaced. SQL statements carry
bound parameters as placeholders, never values. The GraphQL operation is not traced
field by field (a span per resolver costs more than the resolver).

The instrumentation of httpx, httpx2 and SQLAlchemy is process-wide: one traced app at a
time per process (the server runs one).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hub.settings import ConfigError, Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from starlette.middleware import Middleware

#: what a `tracing = true` hub imports (the `telemetry` extra)
PACKAGES = ("opentelemetry.sdk", "opentelemetry.exporter.otlp.proto.http", "opentelemetry.instrumentation.asgi",
            "opentelemetry.instrumentation.httpx", "opentelemetry.instrumentation.sqlalchemy")
SERVICE_NAME = "simpul-hub"

_DIGITS = re.compile(r"\d{16,}")
_DROPPED = ("url.query", "http.request.header.", "http.response.header.")
REDACTED = "[redacted]"


def scrub_value(key: str, value: Any) -> Any:
    if isinstance(value, str):
        if "url" in key or key in ("http.target", "url.path"):
            value = value.split("?", 1)[0]
        return _DIGITS.sub(REDACTED, value)
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return tuple(scrub_value(key, item) for item in value)
    return value


def scrub(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """Span or event attributes without query strings, headers or long digit runs."""
    return {key: scrub_value(key, value) for key, value in (attributes or {}).items()
            if not key.startswith(_DROPPED)}


def enabled(settings: Settings) -> bool:
    return settings.tracing and os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() != "true"


class Telemetry:
    """The tracer provider of one app and the instrumentation it installed."""

    def __init__(self, exporter: SpanExporter | None = None, *, batch: bool = True) -> None:
        """`exporter`: where spans go (default: OTLP from the OTEL_* variables); `batch`
        False exports each span as it ends (tests)."""
        try:
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
        except ImportError as exc:
            raise ConfigError(
                f"tracing is on, but OpenTelemetry is not installed (no module {exc.name!r}): "
                "pip install 'simpul[telemetry]', or set tracing = false"
            ) from exc
        if exporter is None:
            exporter = _otlp_exporter()
        resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or SERVICE_NAME})
        self.provider: TracerProvider = TracerProvider(resource=resource)  # sampler: OTEL_TRACES_SAMPLER
        inner = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
        self.provider.add_span_processor(scrubbing_processor(inner))
        self._instrumentors: list[Any] = []

    def instrument(self) -> None:
        """Patch httpx, httpx2 and SQLAlchemy engine creation: before the app's engines
        and clients are made."""
        from opentelemetry.instrumentation.httpx import HTTPX2ClientInstrumentor, HTTPXClientInstrumentor
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        for instrumentor in (HTTPXClientInstrumentor(), HTTPX2ClientInstrumentor(), SQLAlchemyInstrumentor()):
            if not instrumentor.is_instrumented_by_opentelemetry:
                # the SQLAlchemy instrumentation names SQLAlchemy < 2.1 as what it was
                # released for; its engine events are the same in 2.1 (tests/hub/test_telemetry)
                instrumentor.instrument(tracer_provider=self.provider, skip_dep_check=True)
                self._instrumentors.append(instrumentor)

    def middleware(self) -> Middleware:
        """The ASGI server span, outermost (it times the whole request)."""
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
        from starlette.middleware import Middleware

        return Middleware(OpenTelemetryMiddleware, tracer_provider=self.provider,  # type: ignore[arg-type]
                          exclude_spans=["receive", "send"])

    def shutdown(self) -> None:
        """Export what is left, and take the patches off."""
        for instrumentor in reversed(self._instrumentors):
            instrumentor.uninstrument()
        self._instrumentors.clear()
        self.provider.shutdown()


def _otlp_exporter() -> SpanExporter:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # endpoint, headers, timeout, compression: the OTEL_* variables


def start_telemetry(settings: Settings) -> Telemetry | None:
    """The app's telemetry, instrumented, when tracing is on; None (and nothing loaded) when off."""
    if not enabled(settings):
        return None
    telemetry = Telemetry()
    telemetry.instrument()
    return telemetry


def scrubbing_processor(inner: SpanProcessor) -> SpanProcessor:
    """A span processor that hands `inner` each ended span with its attributes scrubbed
    (defined here so that the SDK is imported only when tracing is on)."""
    from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor

    class ScrubbingProcessor(SpanProcessor):
        def on_start(self, span: Span, parent_context: Any = None) -> None:
            inner.on_start(span, parent_context=parent_context)

        def on_end(self, span: ReadableSpan) -> None:
            events = [Event(event.name, scrub(event.attributes), event.timestamp) for event in span.events]
            inner.on_end(ReadableSpan(
                name=span.name, context=span.context, parent=span.parent, resource=span.resource,
                attributes=scrub(span.attributes), events=events, links=span.links, kind=span.kind,
                status=span.status, start_time=span.start_time, end_time=span.end_time,
                instrumentation_scope=span.instrumentation_scope,
            ))

        def shutdown(self) -> None:
            inner.shutdown()

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return inner.force_flush(timeout_millis)

    return ScrubbingProcessor()
