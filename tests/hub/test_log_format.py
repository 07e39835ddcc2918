"""The server's logs (hub.log_format): JSON or text, with the request id and trace id of
the request each line was written in, and no query string in access lines."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hub.demo import DemoSources, write_demo_config
from hub.log_format import configure_logging, request_id_var, trace_id_from_traceparent, trace_id_var
from tests.support.hub_process import hub_serve

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
NIK = "1471080101900001"


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = configure_logging("json", "info", stream=stream)
    try:
        yield stream
    finally:
        logging.getLogger().removeHandler(handler)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_json_line_has_the_time_level_logger_message_and_the_request_and_trace_ids(log_stream: io.StringIO) -> None:
    request, trace = request_id_var.set("req-12345678"), trace_id_var.set(TRACE_ID)
    try:
        logging.getLogger("hub.test").warning("source %s slow", "licensing")
    finally:
        request_id_var.reset(request)
        trace_id_var.reset(trace)
    logging.getLogger("hub.test").info("outside a request")
    inside, outside = _lines(log_stream)
    assert inside == {"time": inside["time"], "level": "WARNING", "logger": "hub.test", "message": "source licensing slow",
                      "request_id": "req-12345678", "trace_id": TRACE_ID}
    assert str(inside["time"])[:2] == "20" and "T" in str(inside["time"])
    assert outside["request_id"] is None and outside["trace_id"] is None


def test_an_exception_is_one_json_line_with_its_traceback(log_stream: io.StringIO) -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        logging.getLogger("hub.test").exception("it failed")
    (line,) = _lines(log_stream)
    assert line["level"] == "ERROR" and "ValueError: broken" in str(line["exc_info"])


@pytest.mark.parametrize(("header", "expected"), [
    pytest.param(TRACEPARENT, TRACE_ID, id="valid"),
    pytest.param(TRACEPARENT.upper(), TRACE_ID, id="upper-case"),
    pytest.param(f"00-{'0' * 32}-00f067aa0ba902b7-01", None, id="all-zero trace id"),
    pytest.param("00-xyz-00f067aa0ba902b7-01", None, id="not hex"),
    pytest.param(f"00-{TRACE_ID}-00f067aa0ba902b7-01\n{{\"level\": \"FAKE\"}}", None, id="a line break"),
    pytest.param(None, None, id="absent"),
])
def test_only_a_well_formed_traceparent_gives_a_trace_id(header: str | None, expected: str | None) -> None:
    assert trace_id_from_traceparent(header) == expected


def _serve_and_request(stack: DemoSources, tmp_path: Path, log_format: str) -> tuple[str, str]:
    args = ("--config", str(write_demo_config(stack)), "--data-dir", str(tmp_path / "data"),
            "--log-format", log_format)
    with hub_serve(*args, log=tmp_path / "hub.log") as hub:
        query = f'{{ trackApplication(number: "{NIK}") {{ number }} }}'
        answer = httpx.get(f"{hub.url}/graphql", params={"query": query},
                           headers={"X-Request-ID": "logged-request-1", "traceparent": TRACEPARENT}, timeout=30)
        assert answer.status_code == 200
        hub.stop()
        return hub.output(), answer.headers["x-request-id"]


def test_hub_serve_log_format_json_writes_only_json_lines_with_the_ids(stack: DemoSources, tmp_path: Path) -> None:
    output, request_id = _serve_and_request(stack, tmp_path, "json")
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert {"uvicorn.error", "uvicorn.access"} <= {line["logger"] for line in lines}
    (access,) = [line for line in lines if line["logger"] == "uvicorn.access" and "/graphql" in str(line["message"])]
    assert access["request_id"] == request_id == "logged-request-1" and access["trace_id"] == TRACE_ID
    assert "GET /graphql HTTP/1.1" in str(access["message"])
    assert NIK not in output and "trackApplication" not in output  # the query string stays out


def test_hub_serve_text_logs_carry_the_ids_too(stack: DemoSources, tmp_path: Path) -> None:
    output, request_id = _serve_and_request(stack, tmp_path, "text")
    (access,) = [line for line in output.splitlines() if "uvicorn.access" in line and "/graphql" in line]
    assert f"[request {request_id} trace {TRACE_ID}]" in access and NIK not in output
    with pytest.raises(json.JSONDecodeError):
        json.loads(access)
