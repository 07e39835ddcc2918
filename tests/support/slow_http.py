"""A tiny HTTP/1.1 server that answers late, and a pool slot held by nobody: the
pieces the HTTP pool's tests are made of (connectors, and the hub's pool metrics)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable


class LeakedConnection:
    """A pool slot held by nobody (what httpcore 1.0.9 left behind)."""

    def can_handle_request(self, origin: object) -> bool:
        return False

    def is_available(self) -> bool:
        return False

    def has_expired(self) -> bool:
        return False

    def is_idle(self) -> bool:
        return False

    def is_closed(self) -> bool:
        return False

    def is_connected(self) -> bool:
        return True

    def can_multiplex(self) -> bool:
        return False

    async def aclose(self) -> None:
        return None


@contextlib.asynccontextmanager
async def slow_server(*, delay: float | Callable[[], float] = 0.0,
                      release: asyncio.Event | None = None) -> AsyncIterator[str]:
    """A tiny HTTP/1.1 server on 127.0.0.1 answering `{}` after `delay` seconds (and,
    given `release`, once that event is set)."""

    writers: set[asyncio.StreamWriter] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.add(writer)
        with contextlib.suppress(Exception):
            while True:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = await reader.read(4096)
                    if not chunk:
                        return
                    head += chunk
                await asyncio.sleep(delay() if callable(delay) else delay)
                if release is not None:
                    await release.wait()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 2\r\n\r\n{}")
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await asyncio.sleep(0.05)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 1)
