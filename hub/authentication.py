"""Authentication middleware: turns the Authorization header into a Principal.

No header means the anonymous principal. A header that does not validate is refused
and never treated as anonymous (see auth.errors): 401 `UNAUTHENTICATED` with an RFC
6750 challenge; 403 `FORBIDDEN` for a valid token that grants no role the policy
knows; 503 `IDENTITY_UNAVAILABLE` with Retry-After when the identity provider's keys
cannot be fetched. Any other exception is a bug and left to the 500 handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from auth.errors import AuthError
from auth.principal import Principal
from hub.json_errors import send_json_error, status_for_code
from hub.request_context import PRINCIPAL_KEY

Authenticate = Callable[[str | None], Awaitable[Principal]]

#: WebSocket close codes: 4401/4403 as graphql-transport-ws uses them, 1013 "try again later"
_WS_CLOSE = {401: 4401, 403: 4403, 503: 1013}


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
        except AuthError as exc:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": _WS_CLOSE.get(status_for_code(exc.code), 4401)})
                return
            await send_json_error(scope, send, exc.code, exc.message, headers=exc.get_headers(), **exc.details)
            return
        await self.app(scope, receive, send)
