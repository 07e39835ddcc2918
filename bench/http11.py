"""A lean HTTP/1.1 client for the load generator: keep-alive connections on asyncio
transports, responses parsed by httptools (llhttp, the C parser uvicorn uses).

What the hub phase measures is the client's cost too, and that cost is not the hub's:
a request through aiohttp costs ~0.7 ms more than through this client on the 2-core
benchmark machine (citizen by NIK, 9.42 against 8.74 ms p50, same hub, alternating
blocks), as much as a tenth of the hub's whole overhead. Tools made for measuring
servers (wrk, h2load) are lean for the same reason. This one writes each request with
one `bytes.join` and one `write`, and hands back status and body; it does no redirects,
cookies, compression or TLS (the benchmark needs none of them), and an answer must carry
`Content-Length` or be chunked, as uvicorn's always are (a body that only the closing of
the connection ends is a transport failure).
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import httptools


class ResponseError(Exception):
    """The server's bytes were not a well-formed HTTP/1.1 response."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection: one request in flight at a time."""

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._body: list[bytes] = []
        self.received = 0  # bytes of the answer in flight so far (status line and headers too)
        self.usable = True  # False once closed, failed, or told `Connection: close`

    # -- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ResponseError(f"malformed response: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.usable = False
        self._fail(exc or ConnectionResetError("the server closed the connection"))

    # -- httptools callbacks ------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._body = []

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        status = self._parser.get_status_code()
        if not self._parser.should_keep_alive():
            self.close()
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result((status, b"".join(self._body)))
        # a response nobody asked for (no waiter) cannot be matched to a request
        elif waiter is None:
            self.close()

    # -- use -----------------------------------------------------------------------------

    def send(self, request: bytes) -> asyncio.Future[tuple[int, bytes]]:
        assert self._transport is not None and self._waiter is None
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        self.received = 0
        self._transport.write(request)
        return waiter

    def close(self) -> None:
        self.usable = False
        if self._transport is not None:
            self._transport.close()

    def _fail(self, exc: Exception) -> None:
        self.close()
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)


def _header_bytes(name: str, value: str) -> bytes:
    if any(c in name or c in value for c in "\r\n\0"):
        raise ValueError(f"header {name!r}: CR, LF and NUL are not allowed")
    return name.encode("latin-1") + b": " + value.encode("latin-1") + b"\r\n"


class Http11Client:
    """POSTs to one origin over up to `connections` keep-alive connections.

    `post` returns `(status, body)`; it raises `TimeoutError` when no whole answer came
    within `timeout` seconds, `OSError` when the connection failed and `ResponseError`
    for bytes that are not HTTP. A connection that failed or timed out is dropped; the
    next request opens a new one."""

    def __init__(self, base_url: str, *, connections: int, timeout: float) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"an http:// URL is needed, got {base_url!r}")
        self._host = parts.hostname
        self._port = parts.port or 80
        self._timeout = timeout
        self._prefix = parts.path.rstrip("/").encode()
        self._host_line = _header_bytes("Host", parts.netloc)
        self._slots = asyncio.Semaphore(connections)
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        status, content, _, _ = await self.post_counted(path, body, headers)
        return status, content

    async def post_counted(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes, int, int]:
        """As `post`, with the bytes on the wire: `(status, body, sent, received)`, sent
        and received counting the request and the answer whole (request or status line,
        headers, body; one request is in flight on a connection at a time)."""
        request = b"".join((
            b"POST ", self._prefix, path.encode(), b" HTTP/1.1\r\n", self._host_line,
            b"Content-Length: ", str(len(body)).encode(), b"\r\n",
            *(_header_bytes(name, value) for name, value in headers.items()),
            b"\r\n", body,
        ))
        async with self._slots:
            connection: _Connection | None = None
            try:
                async with asyncio.timeout(self._timeout):
                    connection = await self._connection()
                    answer = await connection.send(request)
            except BaseException:
                if connection is not None:  # its state is unknown: never reuse it
                    self._drop(connection)
                raise
            received = connection.received
            if connection.usable:
                self._idle.append(connection)
            else:
                self._open.discard(connection)
            return answer[0], answer[1], len(request), received

    async def _connection(self) -> _Connection:
        while self._idle:
            connection = self._idle.pop()
            if connection.usable:
                return connection
            self._open.discard(connection)
        _, connection = await asyncio.get_running_loop().create_connection(_Connection, self._host, self._port)
        self._open.add(connection)
        return connection

    def _drop(self, connection: _Connection) -> None:
        connection.close()
        self._open.discard(connection)

    async def aclose(self) -> None:
        for connection in list(self._open):
            self._drop(connection)
        self._idle.clear()
        await asyncio.sleep(0)  # let the transports finish closing
