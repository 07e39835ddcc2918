"""The one HTTP boundary of the REST backends.

Every call goes through `SourceHttpClient.request`, which sends the API key, bounds
the exchange by the HTTP client's own timeouts (connect, write, read and waiting for a
pool slot, each at most the configured timeout or what is left of the guard's budget,
see `connectors._budget`) and turns every failure into a `connectors.errors` exception
(``from exc``):

    transport error, 5xx, 408, 429, bad JSON      → SourceUnavailable
    no answer within the timeout                  → SourceTimeout
    401 / 403 (API key rejected: configuration)   → SourceUnavailable
    404                                           → RecordNotFound
    400 / 409 / 422 and other 4xx                 → SourceRejected
    (the source's "pesan [kode]" goes to `source_says`, never into the message)

Retries and a circuit breaker belong around `request` (one seam for all calls).

Why httpx2 and not httpx: httpcore 1.0.9 (httpx's pool) leaks a pool slot whenever a
request is cancelled after the pool gave it a new connection but before that connection
was established (encode/httpcore#1093, #830). Under load with timeouts the slots run
out one by one and every later request waits for the pool until it times out, although
the source answers at once; only a restart recovered (issue 26). httpcore2, httpx2's
pool, drops such connections (pydantic/httpx2#983). Besides, the client bounds its own
I/O instead of being cancelled from outside, and `pool_state()` counts connections that
hold a slot without serving a request: if a request ever waits for the pool in vain
while such connections exist, the pool is replaced (`recycled` counts it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import quote

import httpx2 as httpx
import orjson

from connectors._budget import remaining

from connectors.errors import (
    ConnectorError,
    RecordNotFound,
    SourceRejected,
    SourceTimeout,
    SourceUnavailable,
)

log = logging.getLogger("connectors.http")

API_KEY_HEADER = "X-API-Key"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def path_key(key: str) -> str:
    """A record key as one URL path segment (application numbers contain '/')."""
    return quote(key, safe="")


@dataclass(frozen=True, slots=True)
class PoolState:
    """The connection pool of one source, as counted from outside.

    `stuck` connections hold a slot (neither idle nor closed) while no request of ours
    is in flight on them: the signature of the leaked slots described above. `waiting`
    requests are queued for a connection; `recycled` counts the pools replaced."""

    max_connections: int
    connections: int
    idle: int
    in_flight: int
    waiting: int
    stuck: int
    recycled: int

    @property
    def in_use(self) -> int:
        """Connections holding a slot: serving a request, being opened, or stuck."""
        return self.connections - self.idle


class SourceHttpClient:
    """An `httpx2.AsyncClient` for one source: base URL, API key, pool, timeouts."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str,
        source_id: str,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int = 20,
    ) -> None:
        try:
            url = httpx.URL(base_url) if isinstance(base_url, str) else None
        except httpx.InvalidURL:
            url = None
        if url is None or url.scheme not in ("http", "https") or not url.host:
            raise ValueError(
                f"{source_id}: base URL must be an http(s) URL, got {base_url!r}"
            )
        if url.query or url.fragment:  # paths are joined to it: see `_absolute`
            raise ValueError(f"{source_id}: base URL must have no query or fragment, got {base_url!r}")
        if not isinstance(api_key, str) or not api_key:
            raise ValueError(f"{source_id}: api_key must be a non-empty string")
        if not timeout > 0:
            raise ValueError(f"{source_id}: timeout must be positive")
        if max_connections < 1:
            raise ValueError(f"{source_id}: max_connections must be at least 1")
        self.source_id = source_id
        self.timeout = timeout
        self.max_connections = max_connections
        self._options: dict[str, Any] = {
            "base_url": base_url,
            "headers": {API_KEY_HEADER: api_key, "Accept": "application/json"},
            "timeout": httpx.Timeout(timeout),
            "transport": transport,
            "limits": httpx.Limits(
                max_connections=max_connections,
                max_keepalive_connections=max_connections,
            ),
        }
        self._client = httpx.AsyncClient(**self._options)
        self._base = str(self._client.base_url).removesuffix("/") + "/"
        self._in_flight = 0
        self._recycled = 0
        self._closing: set[asyncio.Task[None]] = set()

    async def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        json: Any = None,
        params: Mapping[str, str | int | None] | None = None,
        idempotency_key: str | None = None,
        form: Mapping[str, str] | None = None,
        files: Sequence[tuple[str, tuple[str, BinaryIO, str]]] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Send one request; the decoded JSON body of a 2xx answer, else a connector error.

        With `files` the body is multipart/form-data (`form` fields, then the files),
        streamed from the file objects in chunks: never held whole in memory. `timeout`
        replaces the configured one for this call (an upload takes longer)."""
        headers: dict[str, str] = {}
        if idempotency_key is not None:
            headers[IDEMPOTENCY_HEADER] = idempotency_key
        content: bytes | None = None
        if json is not None:
            content = orjson.dumps(json)
            headers["Content-Type"] = "application/json"
        query = {k: v for k, v in (params or {}).items() if v is not None} or None
        seconds = remaining(timeout or self.timeout)
        client = self._client
        url = self._absolute(path)
        self._in_flight += 1
        try:
            if files is not None:  # streamed from the files, in chunks
                response = await client.request(
                    method, url, data=dict(form or {}), files=list(files), params=query, headers=headers,
                    timeout=httpx.Timeout(seconds),
                )
            else:
                response = await client.request(
                    method, url, content=content, params=query, headers=headers,
                    timeout=httpx.Timeout(seconds),
                )
        except httpx.PoolTimeout as exc:
            self._in_flight -= 1
            await self._heal(client)
            raise SourceTimeout(
                self.source_id,
                f"no free connection within {seconds:.3g} s",
                operation=operation,
            ) from exc
        except (TimeoutError, httpx.TimeoutException) as exc:
            self._in_flight -= 1
            raise SourceTimeout(
                self.source_id,
                f"no answer within {seconds:.3g} s",
                operation=operation,
            ) from exc
        except httpx.HTTPError as exc:
            self._in_flight -= 1
            raise SourceUnavailable(
                self.source_id,
                f"cannot reach the source ({type(exc).__name__})",
                operation=operation,
            ) from exc
        except BaseException:
            self._in_flight -= 1
            raise
        self._in_flight -= 1
        return self._decode(response, operation)

    def _absolute(self, path: str) -> str:
        """`path` (from "/") joined to the base URL as the client would join it. httpx2
        parses the text of an absolute URL once and keeps it (a cache of recent URLs),
        where it parses and joins a relative one again on every call, and so a URL given
        an empty query (hence `params=None` above, never `{}`): the request's CPU time
        (docs/performance.md)."""
        if not path.startswith("/") or path.startswith("//"):
            return path
        return self._base + path[1:]

    def pool_state(self) -> PoolState:
        """Counts of the pool's connections (all zero with a test transport)."""
        connections, serving, queued = _pool_connections(self._client)
        free = [c for c in connections if c.is_idle() or c.is_closed()]
        busy = [c for c in connections if not (c.is_idle() or c.is_closed())]
        if serving is None or queued is None:  # no view of the pool's requests: an estimate from ours
            stuck = max(0, len(busy) - self._in_flight)
            waiting = max(0, self._in_flight - len(busy))
        else:
            stuck = sum(1 for c in busy if id(c) not in serving)
            waiting = queued
        return PoolState(
            max_connections=self.max_connections,
            connections=len(connections),
            idle=len(free),
            in_flight=self._in_flight,
            waiting=waiting,
            stuck=stuck,
            recycled=self._recycled,
        )

    async def _heal(self, client: httpx.AsyncClient) -> None:
        """A request waited for a pool slot in vain: if connections hold slots without
        serving anyone, replace the pool (once per wedged client) and close the old one."""
        if client is not self._client or self.pool_state().stuck == 0:
            return
        log.warning("%s: HTTP pool wedged (%s); replacing it", self.source_id, self.pool_state())
        self._client = httpx.AsyncClient(**self._options)
        self._recycled += 1
        task = asyncio.get_running_loop().create_task(client.aclose())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    @asynccontextmanager
    async def stream(self, path: str, *, operation: str) -> AsyncIterator[httpx.Response]:
        """`GET path` with the body left unread: iterate `response.aiter_bytes()`.
        A non-2xx answer raises the connector error `request` would. Bounded by the
        client's own timeouts (per read), never cancelled from outside."""
        seconds = remaining(self.timeout)
        request = self._client.build_request("GET", path, timeout=httpx.Timeout(seconds))
        try:
            response = await self._client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise SourceTimeout(self.source_id, f"no answer within {seconds:.3g} s", operation=operation) from exc
        except httpx.HTTPError as exc:
            raise SourceUnavailable(
                self.source_id, f"cannot reach the source ({type(exc).__name__})", operation=operation
            ) from exc
        try:
            if not 200 <= response.status_code < 300:
                body = await response.aread()
                raise self._error(response.status_code, body, operation)
            yield response
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    def _decode(self, response: httpx.Response, operation: str) -> Any:
        status = response.status_code
        if 200 <= status < 300:
            if status == 204 or not response.content:
                return None
            try:
                return orjson.loads(response.content)
            except orjson.JSONDecodeError as exc:
                raise SourceUnavailable(
                    self.source_id,
                    f"invalid JSON in HTTP {status} answer",
                    operation=operation,
                ) from exc
        raise self._error(status, response.content, operation)

    def _error(self, status: int, body: bytes, operation: str) -> ConnectorError:
        kode, pesan = _error_body(body)
        says = (f"{pesan} [{kode}]" if kode else pesan) or None
        src = self.source_id
        if status in (401, 403):
            return SourceUnavailable(
                src,
                f"API key rejected (HTTP {status}): check the configured api_key",
                operation=operation,
                source_says=says,
            )
        if status == 404:
            return RecordNotFound(
                src, f"the {src} source has no such record", operation=operation, source_says=says
            )
        if status in (408, 429) or status >= 500 or status < 400:
            return SourceUnavailable(src, f"HTTP {status}", operation=operation, source_says=says)
        return SourceRejected(
            src, f"the {src} source refused the request (HTTP {status})", operation=operation,
            source_says=says, source_code=kode,
        )


def _pool_connections(client: httpx.AsyncClient) -> tuple[list[Any], set[int] | None, int | None]:
    """The connections of the client's pool (httpcore2's public `connections`), the ids
    of those assigned to a running request and the number of requests still queued for
    one (from its `_requests`, when that private list is there; None otherwise). Nothing
    with a test's mock transport. Read from another thread (the metrics of `hub serve
    --workers`), the counts may be a moment old, never an error: the lists are copied."""
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    connections = list(getattr(pool, "connections", ()))
    requests = getattr(pool, "_requests", None)
    if not isinstance(requests, list):
        return connections, None, None
    assigned = [getattr(r, "connection", None) for r in list(requests)]
    return connections, {id(c) for c in assigned if c is not None}, sum(1 for c in assigned if c is None)


def _error_body(body: bytes) -> tuple[str, str]:
    """(kode, pesan) of a ``{"error": {"kode": ..., "pesan": ...}}`` body, or blanks."""
    try:
        data = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return "", ""
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return "", ""
    kode, pesan = error.get("kode"), error.get("pesan")
    return (
        str(kode)[:100] if kode is not None else "",
        str(pesan)[:500] if pesan is not None else "",
    )
