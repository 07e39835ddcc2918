"""Authentication middleware: turns the Authorization header into a Principal.

No header means the anonymous principal. A header that does not validate is refused
with HTTP 401 and `UNAUTHENTICATED`; it is never treated as anonymous.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from auth.principal import Principal
from hub.request_context import PRINCIPAL_KEY, request_id_of

Authenticate = Callable[[str | None], Awaitable[Principal]]


class AuthenticationMiddleware:
    def __init__(self, app: ASGIApp, *, authenticate: Authenticate) -> None:
        self.app = app
        self.authenticate = authenticate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers") or ()).get(b"authorization")
        try:
            scope[PRINCIPAL_KEY] = await self.authenticate(
                header.decode("latin-1") if header is not None else None
            )
        except Exception as exc:
            if getattr(exc, "code", None) != "UNAUTHENTICATED":
                raise
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 4401})
                return
            await _refuse(scope, send, str(exc) or "invalid token")
            return
        await self.app(scope, receive, send)


async def _refuse(scope: Scope, send: Send, reason: str) -> None:
    body = orjson.dumps(
        {
            "errors": [
                {
                    "message": f"Not authenticated: {reason}",
                    "extensions": {"code": "UNAUTHENTICATED", "requestId": request_id_of(scope)},
                }
            ]
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"www-authenticate", b'Bearer error="invalid_token"'),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
