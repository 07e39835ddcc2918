"""Where `/metrics` is served and to whom (settings `metrics_port`, `metrics_host`,
`metrics_token`).

    metrics_port unset   /metrics on the main port, as one of the app's routes
    metrics_port set     /metrics on that port only (its own small server, started and
                         stopped with the app); the main port answers 404 for it
    metrics_token set    wherever it is served, /metrics wants `Authorization: Bearer
                         <token>` (401 UNAUTHENTICATED otherwise, compared in constant time)

The metrics port's socket is bound when the app starts, so that a port already taken
stops the start with a message instead of a server that silently serves nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.json_errors import json_error
from hub.request_context import request_id_of
from hub.settings import ConfigError, Settings

Endpoint = Callable[[Request], Awaitable[Response]]


def guarded(endpoint: Endpoint, token: str | None) -> Endpoint:
    """`endpoint`, answering only a request that carries `token` (when one is set)."""
    if token is None:
        return endpoint
    expected = f"Bearer {token}".encode()

    async def metrics(request: Request) -> Response:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return json_error(401, "UNAUTHENTICATED", "/metrics needs its bearer token",
                              request_id=request_id_of(request.scope), headers={"WWW-Authenticate": "Bearer"})
        return await endpoint(request)

    return metrics


def main_port_routes(settings: Settings, endpoint: Endpoint) -> list[Route]:
    """The `/metrics` route of the main app: none when metrics have a port of their own."""
    if settings.metrics_port is not None:
        return []
    return [Route("/metrics", guarded(endpoint, _token(settings)))]


@contextlib.asynccontextmanager
async def metrics_server(settings: Settings, endpoint: Endpoint, *, bind: bool = True) -> AsyncIterator[int | None]:
    """Serve `/metrics` on `metrics_port` while the app runs; yields the bound port.
    `bind=False`: another process serves that port (the `hub serve --workers` supervisor)."""
    if settings.metrics_port is None or not bind:
        yield None
        return
    import uvicorn

    host = settings.metrics_host or settings.host
    sock = _bind(host, settings.metrics_port)
    app = Starlette(routes=[Route("/metrics", guarded(endpoint, _token(settings)))])
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield int(sock.getsockname()[1])
    finally:
        server.should_exit = True
        await task
        sock.close()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"metrics_port: cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _token(settings: Settings) -> str | None:
    return settings.metrics_token.get_secret_value() if settings.metrics_token is not None else None
