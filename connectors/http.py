"""The one HTTP boundary of the REST backends.

Every call goes through `SourceHttpClient.request`, which sends the API key, bounds
the whole exchange by the configured timeout and turns every failure into a
`connectors.errors` exception (``from exc``):

    transport error, 5xx, 408, 429, bad JSON      → SourceUnavailable
    no answer within the timeout                  → SourceTimeout
    401 / 403 (API key rejected: configuration)   → SourceUnavailable
    404                                           → RecordNotFound
    400 / 409 / 422 and other 4xx                 → SourceRejected ("pesan [kode]")

Retries and a circuit breaker belong around `request` (one seam for all calls).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from connectors.errors import (
    ConnectorError,
    RecordNotFound,
    SourceRejected,
    SourceTimeout,
    SourceUnavailable,
)

API_KEY_HEADER = "X-API-Key"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def path_key(key: str) -> str:
    """A record key as one URL path segment (application numbers contain '/')."""
    return quote(key, safe="")


class SourceHttpClient:
    """An `httpx.AsyncClient` for one source: base URL, API key, pool, timeout."""

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
        if not isinstance(api_key, str) or not api_key:
            raise ValueError(f"{source_id}: api_key must be a non-empty string")
        if not timeout > 0:
            raise ValueError(f"{source_id}: timeout must be positive")
        if max_connections < 1:
            raise ValueError(f"{source_id}: max_connections must be at least 1")
        self.source_id = source_id
        self.timeout = timeout
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers={API_KEY_HEADER: api_key, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout),
            transport=transport,
            limits=httpx.Limits(
                max_connections=max_connections,
                max_keepalive_connections=max_connections,
            ),
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        json: Any = None,
        params: Mapping[str, str | int | None] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Send one request; the decoded JSON body of a 2xx answer, else a connector error."""
        headers: dict[str, str] = {}
        if idempotency_key is not None:
            headers[IDEMPOTENCY_HEADER] = idempotency_key
        content: bytes | None = None
        if json is not None:
            content = orjson.dumps(json)
            headers["Content-Type"] = "application/json"
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            async with asyncio.timeout(self.timeout):
                response = await self._client.request(
                    method, path, content=content, params=query, headers=headers
                )
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise SourceTimeout(
                self.source_id,
                f"no answer within {self.timeout:g} s",
                operation=operation,
            ) from exc
        except httpx.HTTPError as exc:
            raise SourceUnavailable(
                self.source_id,
                f"cannot reach the source ({type(exc).__name__})",
                operation=operation,
            ) from exc
        return self._decode(response, operation)

    async def aclose(self) -> None:
        await self._client.aclose()

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
        detail = f"{pesan} [{kode}]" if kode else pesan
        src = self.source_id
        if status in (401, 403):
            return SourceUnavailable(
                src,
                f"API key rejected (HTTP {status}): check the configured api_key",
                operation=operation,
            )
        if status == 404:
            return RecordNotFound(
                src, detail or "record not found", operation=operation
            )
        if status in (408, 429) or status >= 500 or status < 400:
            return SourceUnavailable(
                src,
                f"HTTP {status}" + (f": {detail}" if detail else ""),
                operation=operation,
            )
        return SourceRejected(
            src, detail or f"request refused (HTTP {status})", operation=operation
        )


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
