"""The server's logs: human lines or JSON objects (setting `log_format`, `hub serve
--log-format`), each carrying the request id and the trace id of the request it was
written in.

    {"time": "2026-12-07T04:10:00.123+00:00", "level": "INFO", "logger": "uvicorn.access",
     "message": "127.0.0.1:50312 - \\"POST /graphql HTTP/1.1\\" 200",
     "request_id": "9f1c...", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}

The request id is the one `hub.request_context` gives the request (and returns in
`X-Request-ID`). The trace id is the current OpenTelemetry span's when tracing is on
(hub.telemetry), else the one in the request's W3C `traceparent` header, so that the
hub's lines can be found by the trace a proxy or caller started; null outside requests.

Access lines name the path without its query string: a GET request's query and
variables (a NIK, a name) never reach the logs.
"""

from __future__ import annotations

import logging
import re
import sys
from contextvars import ContextVar
from typing import Literal, TextIO

from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["text", "json"]

request_id_var: ContextVar[str | None] = ContextVar("simpul_request_id", default=None)
trace_id_var: ContextVar[str | None] = ContextVar("simpul_trace_id", default=None)

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [request %(request_id)s trace %(trace_id)s] %(message)s"
JSON_FIELDS = ("levelname", "name", "message", "request_id", "trace_id")
RENAMED = {"levelname": "level", "name": "logger"}


def trace_id_from_traceparent(header: str | None) -> str | None:
    """The trace id of a well-formed W3C `traceparent` header (not all zeros), else None."""
    match = _TRACEPARENT.match((header or "").strip().lower())
    if match is None or set(match.group(1)) == {"0"}:
        return None
    return match.group(1)


def _span_trace_id() -> str | None:
    """The current OpenTelemetry span's trace id, when the API is installed and a span is on."""
    trace = sys.modules.get("opentelemetry.trace")  # never imported here: only if tracing loaded it
    if trace is None:
        return None
    context = trace.get_current_span().get_span_context()
    return f"{context.trace_id:032x}" if context.is_valid else None


class RequestContextFilter(logging.Filter):
    """Adds `request_id` and `trace_id` to every record; cuts query strings from access lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.trace_id = _span_trace_id() or trace_id_var.get()
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) >= 3:
            args = list(record.args)
            args[2] = str(args[2]).split("?", 1)[0]
            record.args = tuple(args)
        return True


class _TextFormatter(logging.Formatter):
    """Human lines: `-` where a line has no request or trace."""

    def format(self, record: logging.LogRecord) -> str:
        for name in ("request_id", "trace_id"):
            if getattr(record, name, None) is None:
                setattr(record, name, "-")
        return super().format(record)


def formatter(log_format: LogFormat) -> logging.Formatter:
    if log_format == "json":  # "time": ISO 8601 in UTC with microseconds, first
        return JsonFormatter(list(JSON_FIELDS), rename_fields=RENAMED, timestamp="time",
                             reserved_attrs=[*logging.LogRecord("", 0, "", 0, "", None, None).__dict__, "color_message"])
    return _TextFormatter(TEXT_FORMAT)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a line is written (as logging's own
    last-resort handler does), not to the one there when it was configured."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> TextIO:  # type: ignore[override]
        return sys.stderr


def configure_logging(log_format: LogFormat, level: str = "info", *, stream: TextIO | None = None) -> logging.Handler:
    """One handler on the root logger (uvicorn's loggers hand their records to it: run
    uvicorn with `log_config=None`), writing to `stream` or else stderr; returns it."""
    handler: logging.Handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(formatter(log_format))
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_simpul", False)]:
        root.removeHandler(old)
    handler._simpul = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    return handler
