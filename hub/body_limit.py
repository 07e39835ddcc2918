"""A request body limit that answers like the rest of the API: HTTP 413 with a JSON
error (`PAYLOAD_TOO_LARGE`), whether the size is declared (Content-Length, refused
before reading) or only discovered while reading a streamed body."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.json_errors import send_json_error


class BodyTooLarge(Exception):
    """Raised into the application when a streamed body passes the limit."""


class BodyLimitMiddleware:
    """`upload_limits` maps a path to the larger limit of its multipart/form-data
    requests (documents sent with a GraphQL operation: hub.uploads)."""

    def __init__(self, app: ASGIApp, *, max_body_size: int, upload_limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_body_size = max_body_size
        self.upload_limits = dict(upload_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, send, limit)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, send, limit)

    def _limit(self, scope: Scope) -> int:
        upload = self.upload_limits.get(scope.get("path", ""))
        if upload is None:
            return self.max_body_size
        for name, value in scope.get("headers") or ():
            if name == b"content-type":
                return upload if value.split(b";")[0].strip().lower() == b"multipart/form-data" else self.max_body_size
        return self.max_body_size

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        await send_json_error(
            scope,
            send,
            "PAYLOAD_TOO_LARGE",
            f"The request body is larger than {limit} bytes",
            headers={"connection": "close"},
            maximum=limit,
        )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
