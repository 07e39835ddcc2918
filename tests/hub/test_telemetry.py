"""OpenTelemetry traces (hub.telemetry): the spans a query makes, their parentage, no
personal data in any attribute, the trace id in the logs, and nothing at all when off."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from starlette.testclient import TestClient

from hub.app import create_app
from hub.log_format import configure_logging
from hub.settings import ConfigError, Settings
from hub.telemetry import REDACTED, Telemetry, scrub, start_telemetry

ROOT = Path(__file__).resolve().parents[2]
LISTING = "{ citizens(first: 3) { edges { node { nik fullName birthDate applications { number status } } } } }"
LOOKUP = "query($nik: String!) { citizen(nik: $nik) { nik fullName family { number } applications { number } } }"


@pytest.fixture
def traced(settings: Settings) -> Iterator[tuple[TestClient, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    with TestClient(create_app(settings, telemetry=Telemetry(exporter, batch=False))) as client:
        yield client, exporter


def _officer(token: Callable[..., dict[str, str]]) -> dict[str, str]:
    return {**token("population_officer"), "X-Access-Purpose": "population-service"}


def _all_values(span: ReadableSpan) -> list[str]:
    values = [str(v) for v in (span.attributes or {}).values()]
    for event in span.events:
        values += [str(v) for v in (event.attributes or {}).values()]
    return [span.name, *values]


def test_a_query_makes_a_server_span_with_source_and_sql_spans_beneath_it(
    traced: tuple[TestClient, InMemorySpanExporter], token: Callable[..., dict[str, str]], settings: Settings
) -> None:
    client, exporter = traced
    exporter.clear()
    answer = client.post("/graphql", json={"query": LISTING}, headers=_officer(token))
    assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
    spans = exporter.get_finished_spans()
    (server,) = [s for s in spans if s.kind is SpanKind.SERVER]
    assert server.name == "POST /graphql" and server.attributes is not None
    assert server.attributes.get("http.status_code", server.attributes.get("http.response.status_code")) == 200
    mine = [s for s in spans if s.context.trace_id == server.context.trace_id]  # not the background refresh's
    http_calls = [s for s in mine if s.kind is SpanKind.CLIENT and "httpx" in _scope(s)]
    sql = [str((s.attributes or {}).get("db.statement", "")) for s in mine if "sqlalchemy" in _scope(s)]
    licensing = str(settings.sources["licensing"].url)
    urls = [str((s.attributes or {}).get("url.full") or (s.attributes or {}).get("http.url")) for s in http_calls]
    assert any(url.startswith(licensing) for url in urls), (licensing, urls)  # the applications' source call
    # the population source's read (the SQLite ledger commits on its own thread, outside SQLAlchemy)
    assert any('FROM "BIODATA_WNI"' in statement for statement in sql), sql
    by_id = {s.context.span_id: s for s in spans}
    for span in mine:
        ancestor = span
        while ancestor.parent is not None:
            ancestor = by_id[ancestor.parent.span_id]
        assert ancestor is server, span.name


def _scope(span: ReadableSpan) -> str:
    return span.instrumentation_scope.name if span.instrumentation_scope is not None else ""


def test_no_personal_data_lands_in_any_span(
    traced: tuple[TestClient, InMemorySpanExporter], token: Callable[..., dict[str, str]]
) -> None:
    client, exporter = traced
    listing = client.post("/graphql", json={"query": LISTING}, headers=_officer(token)).json()
    people = [edge["node"] for edge in listing["data"]["citizens"]["edges"]]
    nik = people[0]["nik"]
    by_post = client.post("/graphql", json={"query": LOOKUP, "variables": {"nik": nik}}, headers=_officer(token))
    by_get = client.get("/graphql", params={"query": LOOKUP, "variables": json.dumps({"nik": nik})},
                        headers=_officer(token))
    unknown = client.get("/graphql", params={"query": f'{{ citizen(nik: "{nik[:-4]}9999") {{ nik }} }}'},
                         headers=_officer(token))
    for answer in (by_post, by_get, unknown):
        assert answer.status_code == 200
    assert by_get.json()["data"]["citizen"]["nik"] == nik  # the GET did carry the NIK in its URL
    secrets = {nik, nik[:-4] + "9999", *(p["nik"] for p in people), *(p["fullName"] for p in people),
               *(p["birthDate"] for p in people)}
    spans = exporter.get_finished_spans()
    assert len([s for s in spans if s.kind is SpanKind.SERVER]) == 4
    for span in spans:
        for value in _all_values(span):
            assert not any(secret in value for secret in secrets), (span.name, value)
            assert not re.search(r"\d{16}", value), (span.name, value)


def test_log_lines_carry_the_span_trace_id(traced: tuple[TestClient, InMemorySpanExporter]) -> None:
    client, exporter = traced
    stream = io.StringIO()
    handler = configure_logging("json", stream=stream)
    try:
        tracer = client.app.state.telemetry.provider.get_tracer("test")  # type: ignore[attr-defined]
        with tracer.start_as_current_span("work") as span:
            logging.getLogger("hub.test").warning("inside a span")
    finally:
        logging.getLogger().removeHandler(handler)
    (line,) = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert line["trace_id"] == f"{span.get_span_context().trace_id:032x}"


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("url.full", "http://h/api/penduduk?nik=1471080101900001&x=1", "http://h/api/penduduk"),
    ("http.url", "http://h/graphql?query=%7Bcitizen%7D", "http://h/graphql"),
    ("http.target", "/graphql?query=x", "/graphql"),
    ("url.path", "/api/v1/penduduk/1471080101900001", f"/api/v1/penduduk/{REDACTED}"),
    ("exception.message", "no citizen 1471080101900001", f"no citizen {REDACTED}"),
    ("db.statement", "SELECT * FROM t WHERE nik = ?", "SELECT * FROM t WHERE nik = ?"),
    ("http.status_code", 200, 200),
])
def test_scrub(key: str, value: object, expected: object) -> None:
    assert scrub({key: value}) == {key: expected}


def test_scrub_drops_queries_and_captured_headers() -> None:
    assert scrub({"url.query": "nik=1", "http.request.header.authorization": ("Bearer x",), "a": ("1471080101900001",)}) \
        == {"a": (REDACTED,)}


def test_tracing_off_adds_no_middleware_and_loads_no_opentelemetry(settings: Settings) -> None:
    assert not settings.tracing and start_telemetry(settings) is None
    app = create_app(settings)
    assert not any("OpenTelemetry" in m.cls.__name__ for m in app.user_middleware)
    script = ("import sys; from hub.settings import load_settings; from hub.app import create_app; "
              "from hub.telemetry import start_telemetry; s = load_settings(data_dir=sys.argv[1]); "
              "assert start_telemetry(s) is None; "
              "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))")
    run = subprocess.run([sys.executable, "-c", script, str(settings.data_dir)], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_otel_sdk_disabled_turns_tracing_off(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    on = settings.model_copy(update={"tracing": True})
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert start_telemetry(on) is None


def test_tracing_without_the_extra_stops_the_start_with_what_to_install(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.resources", None)
    with pytest.raises(ConfigError, match=r"pip install 'simpul\[telemetry\]'"):
        create_app(settings.model_copy(update={"tracing": True}))


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.received.append((self.path, self.headers.get("Content-Type", ""), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_tracing_on_exports_over_otlp_where_the_otel_variables_say(
    settings: Settings, token: Callable[..., dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    collector = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=collector.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{collector.server_address[1]}/v1/traces"
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", endpoint)
        monkeypatch.setenv("OTEL_SERVICE_NAME", "simpul-test-instance")
        with TestClient(create_app(settings.model_copy(update={"tracing": True}))) as client:
            assert client.post("/graphql", json={"query": LISTING}, headers=_officer(token)).status_code == 200
        # the app's end exported what the batch held
    finally:
        collector.shutdown()
        collector.server_close()
        thread.join()
    assert _Collector.received, "nothing exported"
    path, content_type, body = _Collector.received[0]
    assert path == "/v1/traces" and content_type == "application/x-protobuf"
    assert b"simpul-test-instance" in body and b"POST /graphql" in body
