"""The one shape of an error the hub answers with outside a GraphQL result, the same
shape GraphQL errors have inside one:

    {"errors": [{"message": "...", "extensions": {"code": "...", "requestId": "...", ...}}]}

Every refusal that happens before or around GraphQL is built here:

    413 PAYLOAD_TOO_LARGE        hub.body_limit
    429 RATE_LIMITED             hub.ratelimit
    401 UNAUTHENTICATED          hub.authentication (a token that does not validate)
    403 FORBIDDEN                hub.authentication (a token with no role the policy knows)
    401 BAD_SIGNATURE            hub.events.hooks (a source's webhook not signed with its secret)
    503 IDENTITY_UNAVAILABLE     hub.authentication (the identity provider's keys cannot
                                 be fetched; with Retry-After)
    4xx BAD_REQUEST, ...         hub.graphql_view (requests GraphQL over HTTP refuses)
    404, 405, ...                `http_error` (Starlette's routing errors)
    500 INTERNAL                 `UnexpectedErrorMiddleware`: any exception on any path,
                                 logged with its traceback, answered with the request id
                                 only (never a plain-text 500, never a traceback)

The OAuth token endpoint keeps the error format RFC 6749 prescribes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.request_context import request_id_of

log = logging.getLogger("simpul.http")

JSON = "application/json"

#: the HTTP status of each code, the one table both ways (a status's first code is the
#: code of an error known only by that status)
STATUS_BY_CODE: Mapping[str, int] = MappingProxyType({
    "BAD_REQUEST": 400,
    "BAD_USER_INPUT": 400,
    "UNAUTHENTICATED": 401,
    "BAD_SIGNATURE": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "NOT_ACCEPTABLE": 406,
    "PAYLOAD_TOO_LARGE": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "RATE_LIMITED": 429,
    "INTERNAL": 500,
    "LEDGER_UNAVAILABLE": 503,
    "PERSISTED_QUERY_UNAVAILABLE": 503,
    "SOURCE_UNAVAILABLE": 503,
    "IDENTITY_UNAVAILABLE": 503,
})
_CODE_BY_STATUS = {status: code for code, status in reversed(STATUS_BY_CODE.items())}


def code_for_status(status: int) -> str:
    """The code of an error known only by its HTTP status."""
    if status >= 500:
        return "INTERNAL"
    return _CODE_BY_STATUS.get(status, "BAD_REQUEST")


def status_for_code(code: str) -> int:
    """The HTTP status of an error answered outside a GraphQL result."""
    return STATUS_BY_CODE.get(code, 400)


def internal_message(request_id: str) -> str:
    return f"Internal error; quote request id {request_id}"


def error_body(code: str, message: str, *, request_id: str, **extensions: Any) -> bytes:
    return orjson.dumps(
        {"errors": [{"message": message, "extensions": {"code": code, "requestId": request_id, **extensions}}]}
    )


def json_error(
    status: int,
    code: str,
    message: str,
    *,
    request_id: str,
    headers: Mapping[str, str] | None = None,
    media_type: str = JSON,
    **extensions: Any,
) -> Response:
    """An error response; `extensions` are added beside `code` and `requestId`."""
    return Response(
        error_body(code, message, request_id=request_id, **extensions),
        status_code=status,
        media_type=media_type,
        headers=dict(headers or {}),
    )


async def send_json_error(
    scope: Scope,
    send: Send,
    code: str,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> None:
    """`json_error` answered from raw ASGI middleware, with the status of `code`."""
    response = json_error(status_for_code(code), code, message, request_id=request_id_of(scope), headers=headers, **extensions)
    await send({"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own HTTP errors (an unknown path, a method the route does not take)."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    headers = getattr(exc, "headers", None) or {}
    if status == 405:
        message = f"{request.method[:10]} is not allowed here; use {headers.get('Allow', 'GET or POST')}"
    elif status == 404:
        message = f"No such path: {request.url.path[:100]}"
    else:
        message = str(getattr(exc, "detail", "")) or code_for_status(status)
    return json_error(status, code_for_status(status), message, request_id=request_id_of(request.scope), headers=headers)


class UnexpectedErrorMiddleware:
    """Turns any exception that escapes a route into 500 `INTERNAL` with the request id
    (the traceback goes to the log only). Put it inside the request-id middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            request_id = request_id_of(scope)
            log.exception("unexpected error in request %s", request_id)
            if started:  # too late for another answer: the connection is dropped
                raise
            await send_json_error(scope, send, "INTERNAL", internal_message(request_id))
