"""Per-request values the middleware puts in the ASGI scope: request id and principal."""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from auth.principal import ANONYMOUS, Principal
from hub.log_format import request_id_var, trace_id_from_traceparent, trace_id_var

PRINCIPAL_KEY = "simpul.principal"
REQUEST_ID_KEY = "simpul.request_id"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def principal_of(scope: Scope) -> Principal:
    return scope.get(PRINCIPAL_KEY, ANONYMOUS)


def request_id_of(scope: Scope) -> str:
    return scope.get(REQUEST_ID_KEY, "-")


class RequestIdMiddleware:
    """Gives every request an id (a caller's well-formed X-Request-ID is kept) and
    returns it in the `X-Request-ID` response header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _SAFE_ID.match(given) else uuid.uuid4().hex
        scope[REQUEST_ID_KEY] = request_id
        # for the log lines written while it runs (hub.log_format)
        request_token = request_id_var.set(request_id)
        trace_token = trace_id_var.set(trace_id_from_traceparent(headers.get(b"traceparent", b"").decode("latin-1")))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(request_token)
            trace_id_var.reset(trace_token)
