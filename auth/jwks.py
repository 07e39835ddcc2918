"""Where the public keys that verify tokens come from.

A `KeySource` answers one question: "which keys may have signed a token with this
``kid``?" Two sources ship:

- `StaticKeySource`: keys held in process (the development issuer, tests). It may
  wrap a callable so that a key rotation is seen at once.
- `JWKSKeySource`: an issuer's ``jwks_uri`` fetched over HTTP, cached for `ttl`
  seconds, refreshed early when a token names a ``kid`` the cache does not hold. Every
  fetch is rate-limited (`min_refresh_interval` after the last attempt) so that tokens
  with made-up kids, or an issuer that is down, cannot make the hub hammer the issuer;
  only one fetch is ever in flight.

What a `JWKSKeySource` answers for a token's ``kid``:

    kid among the keys (fresh, or stale while the issuer is down)   those keys
    kid unknown after the last fetch succeeded                      the keys (the
                                                                    validator: 401)
    kid unknown and the last fetch failed, or no keys ever fetched  `KeysUnavailable`
                                                                    (503, retry later)
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from auth.errors import KeysUnavailable

KeySetLike = KeySet | Mapping[str, Any]

log = logging.getLogger("simpul.auth.jwks")

_MAX_JWKS_BYTES = 256 * 1024


class KeySource(Protocol):
    async def key_set(self, kid: str | None) -> KeySet:
        """Keys to verify a token whose header names `kid` (None: no kid)."""
        ...


def has_kid(keys: KeySet, kid: str | None) -> bool:
    """True when `keys` can verify a token naming `kid` (a lone key serves no kid)."""
    if kid is None:
        return len(keys.keys) == 1
    return any(key.kid == kid for key in keys.keys)


def to_key_set(value: KeySetLike) -> KeySet:
    """A `KeySet` from a JWKS document (``{"keys": [...]}``) or a `KeySet`."""
    if isinstance(value, KeySet):
        return value
    keys = value.get("keys") if isinstance(value, Mapping) else None
    if not isinstance(keys, list) or not all(isinstance(k, Mapping) for k in keys):
        raise ValueError("a JWKS document needs a 'keys' list of objects")
    # symmetric keys have no place in a published key set: never verify with one
    keys = [dict(k) for k in keys if k.get("kty") != "oct"]
    try:
        key_set = KeySet.import_key_set({"keys": keys})
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"not a usable JWKS document: {exc}") from exc
    for key in key_set.keys:
        if key.is_private:
            raise ValueError("a JWKS document for verification must hold public keys only")
    return key_set


class StaticKeySource:
    """Keys held in process: a key set, a JWKS dict, or a callable returning one."""

    def __init__(self, keys: KeySetLike | Callable[[], KeySetLike]) -> None:
        self._provider = keys if callable(keys) else None
        self._keys = None if callable(keys) else to_key_set(keys)

    async def key_set(self, kid: str | None) -> KeySet:
        if self._provider is not None:
            return to_key_set(self._provider())
        assert self._keys is not None
        return self._keys


class JWKSKeySource:
    """An issuer's JWKS over HTTP, cached and refreshed with care."""

    def __init__(
        self,
        jwks_uri: str,
        *,
        ttl: float = 300.0,
        min_refresh_interval: float = 30.0,
        timeout: float = 5.0,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not jwks_uri.startswith(("https://", "http://")):
            raise ValueError(f"jwks_uri must be an http(s) URL, got {jwks_uri!r}")
        if ttl <= 0 or min_refresh_interval < 0 or timeout <= 0:
            raise ValueError("ttl and timeout must be positive, min_refresh_interval >= 0")
        self.jwks_uri = jwks_uri
        self.ttl = ttl
        self.min_refresh_interval = min_refresh_interval
        self._timeout = timeout
        self._client = http_client
        self._owns_client = http_client is None
        self._transport = transport
        self._clock = clock
        self._keys: KeySet | None = None
        self._fetched_at = float("-inf")  # last successful fetch
        self._attempted_at = float("-inf")  # last fetch, successful or not
        self._failing = False  # the last fetch failed
        self._lock = asyncio.Lock()
        #: how many HTTP fetches were made (for tests and metrics)
        self.fetch_count = 0

    async def key_set(self, kid: str | None) -> KeySet:
        keys = self._keys
        if keys is not None and not self._expired() and has_kid(keys, kid):
            return keys
        async with self._lock:
            # another task may have refreshed while this one waited
            keys = self._keys
            if keys is not None and not self._expired() and has_kid(keys, kid):
                return keys
            if self._may_fetch():
                await self._refresh()
            return self._usable(kid)

    async def aclose(self) -> None:
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None

    async def __aenter__(self) -> JWKSKeySource:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _expired(self) -> bool:
        return self._clock() - self._fetched_at >= self.ttl

    def _may_fetch(self) -> bool:
        return self._clock() - self._attempted_at >= self.min_refresh_interval

    def _usable(self, kid: str | None) -> KeySet:
        """The keys to check a token naming `kid` with, once a fetch was made or refused
        by the rate bound (see the table in the module docstring)."""
        keys = self._keys
        if keys is not None and (has_kid(keys, kid) or not self._failing):
            return keys
        wait = self.min_refresh_interval - (self._clock() - self._attempted_at)
        raise KeysUnavailable(
            "the identity provider's signing keys cannot be fetched; try again later",
            retry_after=math.ceil(wait),
        )

    async def _refresh(self) -> None:
        """Fetch the JWKS; on failure keep the last good keys, if any."""
        self._attempted_at = self._clock()
        self.fetch_count += 1
        try:
            keys = await self._fetch()
        except KeysUnavailable as exc:
            self._failing = True
            log.warning("JWKS %s: %s (%s)", self.jwks_uri, exc.reason, exc.__cause__ or "-")
            return
        self._keys = keys
        self._failing = False
        self._fetched_at = self._clock()

    async def _fetch(self) -> KeySet:
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self._transport, timeout=self._timeout)
        try:
            response = await self._client.get(
                self.jwks_uri, headers={"Accept": "application/json"}
            )
            response.raise_for_status()
            if len(response.content) > _MAX_JWKS_BYTES:
                raise KeysUnavailable("issuer key set is too large")
            return to_key_set(response.json())
        except httpx.HTTPError as exc:
            raise KeysUnavailable("issuer keys could not be fetched") from exc
        except (ValueError, TypeError, RecursionError) as exc:  # bad JSON, not a JWKS document
            raise KeysUnavailable("issuer key set is malformed") from exc
