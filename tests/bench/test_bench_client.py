"""The load generator's HTTP clients: the same answers from either, failures as codes."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import orjson
import pytest

from bench.client import CLIENTS, Answer, ClientFailure, hub_client


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A keep-alive HTTP/1.1 server on 127.0.0.1 that echoes each POST body back as
    {"got": body, "auth": header}, with status 201."""
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                seen.append(lines[0].encode())
                answer = orjson.dumps({"got": orjson.loads(body), "auth": headers.get("authorization"),
                                       "type": headers.get("content-type")})
                writer.write(b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(answer), answer))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    started = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = started.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        started.close()
        await started.wait_closed()


@pytest.mark.parametrize("kind", CLIENTS)
async def test_both_clients_post_json_and_return_status_and_body(kind: str, server: tuple[str, list[bytes]]) -> None:
    url, seen = server
    client = hub_client(kind, url, connections=1)
    try:
        answers = [await client.post({"query": "{ n }", "variables": {"i": i}}, {"Authorization": "Bearer t"})
                   for i in range(3)]
    finally:
        await client.aclose()

    assert all(isinstance(a, Answer) and a.status == 201 for a in answers)
    assert [a.json()["got"]["variables"]["i"] for a in answers] == [0, 1, 2]
    assert answers[0].json()["auth"] == "Bearer t" and answers[0].json()["type"] == "application/json"
    assert seen == [b"POST /graphql HTTP/1.1"] * 3


@pytest.mark.parametrize("kind", CLIENTS)
async def test_an_unreachable_hub_is_a_transport_failure(kind: str) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = hub_client(kind, f"http://127.0.0.1:{port}", connections=1)
    try:
        with pytest.raises(ClientFailure) as failure:
            await client.post({"query": "{ n }"}, {})
    finally:
        await client.aclose()
    assert failure.value.code == "TRANSPORT"


@pytest.mark.parametrize("kind", CLIENTS)
async def test_a_hub_that_does_not_answer_in_time_is_a_timeout(kind: str) -> None:
    handlers: list[asyncio.Task[None]] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await reader.read(-1)  # reads until the client gives up; never answers
        finally:
            writer.close()

    started = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = started.sockets[0].getsockname()[1]
    client = hub_client(kind, f"http://127.0.0.1:{port}", connections=1, timeout=0.3)
    try:
        with pytest.raises(ClientFailure) as failure:
            await client.post({"query": "{ n }"}, {})
    finally:
        await client.aclose()
        for handler in handlers:
            handler.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        started.close()
        await started.wait_closed()
    assert failure.value.code == "TIMEOUT"


class _Server:
    """A raw test server; `stop` waits for every connection's handler to end."""

    def __init__(self, handle) -> None:  # type: ignore[no-untyped-def]
        self._handle = handle
        self._handlers: list[asyncio.Task[None]] = []

    async def _tracked(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await self._handle(reader, writer)
        finally:
            writer.close()

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._tracked, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def stop(self) -> None:
        self._server.close()
        await asyncio.wait_for(asyncio.gather(*self._handlers, return_exceptions=True), 5)
        await self._server.wait_closed()


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    return await reader.readexactly(length)


async def test_the_lean_client_reads_chunked_answers_and_reconnects_after_connection_close() -> None:
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        body = await _read_request(reader)  # one request per connection, then close
        chunks = [body[:5], body[5:]]
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                     + b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n")
        await writer.drain()

    server = _Server(handle)
    client = hub_client("http11", await server.start(), connections=1)
    try:
        answers = [await client.post({"i": i}, {}) for i in range(3)]
    finally:
        await client.aclose()
        await server.stop()
    assert [a.json() for a in answers] == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert connections == 3  # each `Connection: close` answer ended its connection


async def test_the_lean_client_keeps_one_request_per_connection_up_to_its_limit() -> None:
    in_flight = peak = 0
    peers: set[int] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal in_flight, peak
        peers.add(writer.get_extra_info("peername")[1])
        try:
            while True:
                body = await _read_request(reader)
                in_flight += 1
                peak = max(peak, in_flight)
                await asyncio.sleep(0.02)
                in_flight -= 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client closed its connection

    server = _Server(handle)
    client = hub_client("http11", await server.start(), connections=3)
    try:
        answers = await asyncio.gather(*(client.post({"i": i}, {}) for i in range(9)))
    finally:
        await client.aclose()
        await server.stop()
    assert sorted(a.json()["i"] for a in answers) == list(range(9))
    assert peak == 3 and len(peers) == 3  # three kept-alive connections, each reused


def _answering(raw: bytes):  # type: ignore[no-untyped-def]
    """A handler that reads one request, writes `raw` and closes the connection."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(raw)
        await writer.drain()

    return handle


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"NOT HTTP AT ALL\r\n\r\n", id="garbled"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{}", id="ended-only-by-closing"),
    ],
)
async def test_the_lean_client_calls_an_answer_it_cannot_delimit_a_transport_failure(raw: bytes) -> None:
    server = _Server(_answering(raw))
    client = hub_client("http11", await server.start(), connections=1)
    try:
        with pytest.raises(ClientFailure) as failure:
            await client.post({"query": "{ n }"}, {})
    finally:
        await client.aclose()
        await server.stop()
    assert failure.value.code == "TRANSPORT"


async def test_the_lean_client_refuses_header_injection() -> None:
    server = _Server(_answering(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"))
    client = hub_client("http11", await server.start(), connections=1)
    try:
        with pytest.raises(ValueError, match="CR, LF"):
            await client.post({"query": "{ n }"}, {"X-Evil": "a\r\nInjected: yes"})
        assert (await client.post({"query": "{ n }"}, {})).json() == {}  # nothing was sent before
    finally:
        await client.aclose()
        await server.stop()


async def test_the_lean_client_counts_the_bytes_on_the_wire_of_each_request_and_answer() -> None:
    received_raw: list[int] = []
    sent_raw: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                                  if line.lower().startswith(b"content-length")))
                body = await reader.readexactly(length)
                received_raw.append(len(head) + len(body))
                answer = b"x" * (10 * len(received_raw))  # a longer answer each time
                raw = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(answer), answer)
                sent_raw.append(len(raw))
                writer.write(raw)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = _Server(handle)
    client = hub_client("http11", await server.start(), connections=1)
    try:
        answers = [await client.post({"query": "{ n }" * i}, {"Authorization": "Bearer t"}) for i in (1, 5)]
    finally:
        await client.aclose()
        await server.stop()
    assert [a.sent for a in answers] == received_raw
    assert [a.received for a in answers] == sent_raw
    assert answers[1].sent - answers[0].sent == len("{ n }") * 4  # the body's growth, nothing else
