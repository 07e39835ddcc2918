"""The load generator's HTTP client: GraphQL POSTs to the hub over keep-alive connections.

The client's own cost is in every latency the hub phase measures, and it is not the
hub's. On the 2-core benchmark machine an httpx request costs about 1.5 ms of client CPU
more than an aiohttp one (`/healthz`: 2.3 ms against 0.4 ms round trip), and an aiohttp
request ~0.7 ms more than one through `bench.http11` (citizen by NIK, 9.42 against
8.74 ms p50). The hub phase therefore uses that lean client (HTTP/1.1, parsed by
httptools); `--client aiohttp` and `--client httpx` measure with those for comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import httpx
import orjson

from bench.http11 import Http11Client, ResponseError
from bench.options import CLIENTS


class ClientFailure(Exception):
    """The request got no HTTP answer; `code` is TIMEOUT or TRANSPORT."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    content: bytes
    sent: int | None = None  # bytes on the wire, request and answer whole (the lean client only)
    received: int | None = None

    def json(self) -> Any:
        return orjson.loads(self.content)


class HubClient(Protocol):
    async def post(self, body: dict[str, Any], headers: dict[str, str]) -> Answer: ...

    async def aclose(self) -> None: ...


class LeanClient:
    """`bench.http11`: one write per request, the answer parsed in C."""

    def __init__(self, base_url: str, *, connections: int, timeout: float) -> None:
        self._client = Http11Client(base_url, connections=connections, timeout=timeout)

    async def post(self, body: dict[str, Any], headers: dict[str, str]) -> Answer:
        try:
            status, content, sent, received = await self._client.post_counted(
                "/graphql", orjson.dumps(body), {**headers, "Content-Type": "application/json"}
            )
        except TimeoutError as exc:
            raise ClientFailure("TIMEOUT") from exc
        except (OSError, ResponseError) as exc:
            raise ClientFailure("TRANSPORT") from exc
        return Answer(status, content, sent, received)

    async def aclose(self) -> None:
        await self._client.aclose()


class AiohttpClient:
    def __init__(self, base_url: str, *, connections: int, timeout: float) -> None:
        self._url = base_url.rstrip("/") + "/graphql"
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections),
            timeout=aiohttp.ClientTimeout(total=timeout),
        )

    async def post(self, body: dict[str, Any], headers: dict[str, str]) -> Answer:
        try:
            async with self._session.post(
                self._url, data=orjson.dumps(body), headers={**headers, "Content-Type": "application/json"}
            ) as response:
                return Answer(response.status, await response.read())
        except TimeoutError as exc:
            raise ClientFailure("TIMEOUT") from exc
        except aiohttp.ClientError as exc:
            raise ClientFailure("TRANSPORT") from exc

    async def aclose(self) -> None:
        await self._session.close()


class HttpxClient:
    def __init__(self, base_url: str, *, connections: int, timeout: float) -> None:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self._client = httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits)

    async def post(self, body: dict[str, Any], headers: dict[str, str]) -> Answer:
        try:
            response = await self._client.post("/graphql", json=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise ClientFailure("TIMEOUT") from exc
        except httpx.HTTPError as exc:
            raise ClientFailure("TRANSPORT") from exc
        return Answer(response.status_code, response.content)

    async def aclose(self) -> None:
        await self._client.aclose()


def hub_client(kind: str, base_url: str, *, connections: int, timeout: float = 60) -> HubClient:
    """A client of `kind` (one of `CLIENTS`), made inside the running event loop."""
    if kind not in CLIENTS:
        raise ValueError(f"unknown client {kind!r}")
    if kind == "httpx":
        return HttpxClient(base_url, connections=connections, timeout=timeout)
    if kind == "aiohttp":
        return AiohttpClient(base_url, connections=connections, timeout=timeout)
    return LeanClient(base_url, connections=connections, timeout=timeout)
