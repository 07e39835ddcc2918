"""The load generator's HTTP client: GraphQL POSTs to the hub over keep-alive connections.

The client's own cost is in every latency the hub phase measures, and it is not the
hub's: on the 2-core benchmark machine an httpx request costs about 1.5 ms of client CPU
more than an aiohttp one (`/healthz`: 2.3 ms against 0.4 ms round trip), which alone was
a tenth of the citizen-by-NIK latency. The hub phase therefore uses aiohttp, whose
parser is C; `--client httpx` measures with httpx for comparison.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import httpx
import orjson

from hub.bench.options import CLIENTS


class ClientFailure(Exception):
    """The request got no HTTP answer; `code` is TIMEOUT or TRANSPORT."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    content: bytes

    def json(self) -> Any:
        return orjson.loads(self.content)


class HubClient(Protocol):
    async def post(self, body: dict[str, Any], headers: dict[str, str]) -> Answer: ...

    async def aclose(self) -> None: ...


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
        except asyncio.TimeoutError as exc:
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
    return AiohttpClient(base_url, connections=connections, timeout=timeout)
