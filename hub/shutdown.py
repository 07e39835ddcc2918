"""Graceful shutdown: on SIGTERM (or SIGINT) the hub stops taking work and finishes what
it took, within `shutdown_grace_seconds`.

    1. stop accepting: the listening sockets close (a new connection is refused)
    2. shutdown hooks (`app.state.shutdown_hooks`): each part that holds long-lived
       connections closes them its own way; WebSockets close with 1001 (going away)
    3. drain: idle keep-alive connections close; a request in flight runs to its end and
       its answer is sent (its ledger entries are committed before it, as always)
    4. past the grace period what still runs is cancelled (logged with the count)
    5. the app's lifespan ends: background loops stop, the ledger writer commits what
       was submitted, the ledger head gets its closing checkpoint, pools close

uvicorn does 1, 3, 4 and 5 (`timeout_graceful_shutdown`); `GracefulServer` puts 2 between
1 and 3, because uvicorn's own step 3 would close a WebSocket with 1012. Under another
server (an operator's own uvicorn or gunicorn command), the hooks run at the start of the
lifespan's end instead: everything still closes, the WebSockets possibly with 1012.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Awaitable, Callable

import uvicorn
from starlette.applications import Starlette

log = logging.getLogger("hub.shutdown")

Hook = Callable[[], Awaitable[object]]


class ShutdownHooks:
    """What runs once when the server begins to shut down: all hooks together, bounded
    together by the grace period; a failing hook is logged, not raised."""

    def __init__(self, *, grace_seconds: float) -> None:
        self.grace_seconds = grace_seconds
        self._hooks: list[tuple[str, Hook]] = []
        self._ran: asyncio.Event | None = None
        self.shutting_down = False

    def register(self, hook: Hook, *, name: str | None = None) -> None:
        self._hooks.append((name or getattr(hook, "__qualname__", repr(hook)), hook))

    async def run(self, timeout: float | None = None) -> None:
        """Run the hooks, for at most `timeout` seconds (default: the grace period);
        once: a second call waits for the first."""
        if self._ran is not None:
            await self._ran.wait()
            return
        self._ran = asyncio.Event()
        self.shutting_down = True
        timeout = self.grace_seconds if timeout is None else timeout
        try:
            results = await asyncio.wait_for(
                asyncio.gather(*(hook() for _, hook in self._hooks), return_exceptions=True), timeout=timeout
            )
        except TimeoutError:
            log.error("shutdown hooks still running after %.1f s: going on without them", timeout)
        else:
            for (name, _), result in zip(self._hooks, results, strict=True):
                if isinstance(result, BaseException):
                    log.error("shutdown hook %s failed: %r", name, result)
        finally:
            self._ran.set()


class GracefulServer(uvicorn.Server):
    """uvicorn's server with the app's shutdown hooks run after the listeners close and
    before the connections that are left are shut."""

    def __init__(self, config: uvicorn.Config, hooks: ShutdownHooks) -> None:
        super().__init__(config)
        self.hooks = hooks

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """One grace period for the hooks and the drain together."""
        deadline = time.monotonic() + self.hooks.grace_seconds
        for server in self.servers:  # stop accepting before anything else
            server.close()
        for sock in sockets or []:
            sock.close()
        await self.hooks.run(timeout=self.hooks.grace_seconds)
        self.config.timeout_graceful_shutdown = max(0.1, deadline - time.monotonic())  # type: ignore[assignment]
        await super().shutdown(sockets=None)


#: WebSocket frames go uncompressed (uvicorn's permessage-deflate off): a subscription's
#: frames are a few hundred bytes, which deflate hardly shrinks, while its per-socket
#: zlib state and per-frame work cost more: 5,000 subscribers of one event, measured
#: (docs/performance.md, real time): hub CPU 25 % → 20 %, delivery p99 351 → 200 ms,
#: RSS with the sockets open 643 → 445 MB.
WS_PER_MESSAGE_DEFLATE = False


def graceful_server(app: Starlette, *, host: str, port: int, log_level: str = "info") -> GracefulServer:
    """A server for `app` (made by `hub.app.create_app`, whose state holds the hooks)."""
    hooks: ShutdownHooks = app.state.shutdown_hooks
    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level,
        log_config=None,  # the hub's own (hub.log_format.configure_logging)
        timeout_graceful_shutdown=hooks.grace_seconds,  # type: ignore[arg-type]  # a float works
        ws_per_message_deflate=WS_PER_MESSAGE_DEFLATE,
    )
    return GracefulServer(config, hooks)


def serve(app: Starlette, *, host: str, port: int, log_level: str = "info") -> None:
    """Run `app` until SIGTERM/SIGINT, then shut down gracefully within its grace period."""
    graceful_server(app, host=host, port=port, log_level=log_level).run()
