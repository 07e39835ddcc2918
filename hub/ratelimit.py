"""Rate limits on `/graphql`: per client (by its role) and per role (all its clients);
and named limits per caller (`Limiter`) for the public entry points.

A fixed window per key: the first request of a window starts it, every request counts,
and a request past the limit is refused with HTTP 429, `RATE_LIMITED`,
`extensions.retryAfter` and a `Retry-After` header (seconds until the window ends).

    InProcessCounter   one hub instance (the default)
    RedisCounter       instances sharing a Redis (`redis_url`): INCR and PEXPIRE in
                       one Lua script, so the count and its window are atomic

    SharedCounter      Redis while it answers, else this instance's own counts (see
                       below)

If Redis cannot be reached, this instance counts on its own until Redis answers again
(a caller may then get up to the limit once per instance): limits protect the hub, they
must not take it down. The outage is logged once when it starts and once when it ends,
and counted in `simpul_redis_errors_total` (`hub.redis_health`). Any other counter
failure lets the request through (logged).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from auth.principal import Principal
from hub.json_errors import send_json_error
from hub.redis_health import RedisHealth
from hub.request_context import principal_of

log = logging.getLogger("simpul.ratelimit")

DEFAULT_ROLE_KEY = "default"


@dataclass(frozen=True, slots=True)
class Count:
    hits: int  # requests in the current window, this one included
    reset_in: float  # seconds until the window ends


class Counter(Protocol):
    async def hit(self, key: str, window: float) -> Count: ...

    async def peek(self, key: str) -> Count:
        """The current window's count without adding to it (0 hits when none)."""
        ...

    async def aclose(self) -> None: ...


class InProcessCounter:
    """Fixed windows in a dict (expired keys are swept as the dict grows)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, sweep_at: int = 10_000) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (window end, hits)
        self._lock = threading.Lock()
        self._sweep_at = sweep_at

    async def hit(self, key: str, window: float) -> Count:
        now = self._clock()
        with self._lock:
            ends, hits = self._windows.get(key, (0.0, 0))
            if ends <= now:
                ends, hits = now + window, 0
            hits += 1
            self._windows[key] = (ends, hits)
            if len(self._windows) > self._sweep_at:
                self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
        return Count(hits, ends - now)

    async def peek(self, key: str) -> Count:
        now = self._clock()
        with self._lock:
            ends, hits = self._windows.get(key, (0.0, 0))
        return Count(hits, ends - now) if ends > now else Count(0, 0.0)

    async def aclose(self) -> None:
        return None


_HIT_SCRIPT = """
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {hits, ttl}
"""

_PEEK_SCRIPT = """
local hits = redis.call('GET', KEYS[1])
if not hits then
  return {0, 0}
end
return {tonumber(hits), redis.call('PTTL', KEYS[1])}
"""


class RedisCounter:
    """Fixed windows in Redis, shared by every hub instance using the same prefix."""

    def __init__(self, url: str, *, prefix: str) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._script = self._redis.register_script(_HIT_SCRIPT)
        self._peek = self._redis.register_script(_PEEK_SCRIPT)
        self.prefix = prefix

    async def hit(self, key: str, window: float) -> Count:
        hits, ttl_ms = await self._script(keys=[self.prefix + key], args=[max(1, int(window * 1000))])
        return Count(int(hits), int(ttl_ms) / 1000)

    async def peek(self, key: str) -> Count:
        hits, ttl_ms = await self._peek(keys=[self.prefix + key])
        return Count(int(hits), max(0, int(ttl_ms)) / 1000)

    async def aclose(self) -> None:
        await self._redis.aclose()


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Requests per `window` seconds: per client by role (`per_client`, with a
    `default` entry for roles not listed), and per role for all clients together."""

    window: float
    per_client: Mapping[str, int]
    per_role: Mapping[str, int]

    def client_limit(self, principal: Principal) -> int | None:
        """The most generous limit among the principal's roles."""
        limits = [self.per_client[r] for r in principal.roles if r in self.per_client]
        if not limits:
            default = self.per_client.get(DEFAULT_ROLE_KEY)
            return default
        return max(limits)


def client_key(scope: Scope, principal: Principal) -> str:
    """Who is asking: the token's subject (a user or a service account), else, for
    anonymous callers, the client address."""
    return caller_key(principal, (scope.get("client") or ("unknown", 0))[0])


def caller_key(principal: Principal, address: str | None) -> str:
    if not principal.is_anonymous:
        return f"subject:{principal.subject}"
    return f"address:{address or 'unknown'}"


class RateLimitMiddleware:
    """Counts each HTTP request to the wrapped app (after authentication) against the
    caller's limits. Subscription sockets (hub.subscription_socket) authenticate inside the
    socket, so they call `check` for each operation they are sent: one operation counts as
    one request, since a socket carries queries and mutations too."""

    def __init__(self, app: ASGIApp, *, limits: RateLimits, counter: Counter) -> None:
        self.app = app
        self.limits = limits
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        principal = principal_of(scope)
        refused = await self.check(scope, principal)
        if refused is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4429})
        else:
            await _too_many(scope, send, refused)

    def wrapping(self, app: ASGIApp) -> RateLimitMiddleware:
        """The same limits and counter in front of another endpoint (`/documents`)."""
        return RateLimitMiddleware(app, limits=self.limits, counter=self.counter)

    async def check(self, scope: Scope, principal: Principal) -> float | None:
        """None when allowed, else the seconds to wait."""
        checks: list[tuple[str, int]] = []
        limit = self.limits.client_limit(principal)
        if limit is not None:
            checks.append((client_key(scope, principal), limit))
        for role in sorted(principal.roles):
            if role in self.limits.per_role:
                checks.append((f"role:{role}", self.limits.per_role[role]))
        wait = 0.0
        for key, allowed in checks:
            try:
                count = await self.counter.hit(key, self.limits.window)
            except Exception as exc:  # noqa: BLE001 (a limiter outage must not stop the hub)
                log.warning("rate limit counter unavailable (%s): request let through", type(exc).__name__)
                return None
            if count.hits > allowed:
                wait = max(wait, count.reset_in)
        return wait if wait > 0 else None


@dataclass(frozen=True, slots=True)
class Limit:
    requests: int
    window: float  # seconds


class Limiter:
    """Named limits (an entry point, an operation, failed sign-ins) per caller, over the
    hub's counter: `take` counts one use, `over` only looks. Both answer None when
    allowed, else the seconds to wait; a counter outage lets the use through (logged)."""

    def __init__(self, counter: Counter, limits: Mapping[str, Limit]) -> None:
        self.counter = counter
        self.limits = dict(limits)

    async def take(self, name: str, who: str, *, limit: Limit | None = None, bucket: str = "") -> float | None:
        """Count one use of `name` by `who`; `limit` and `bucket` (a suffix of the key,
        e.g. a day) for limits whose window is not fixed."""
        limit = limit or self.limits[name]
        try:
            count = await self.counter.hit(f"{name}:{bucket}{who}", limit.window)
        except Exception as exc:  # noqa: BLE001 (a limiter outage must not stop the hub)
            log.warning("rate limit counter unavailable (%s): %s let through", type(exc).__name__, name)
            return None
        return max(count.reset_in, 0.001) if count.hits > limit.requests else None

    async def over(self, name: str, who: str) -> float | None:
        """Whether `who` has already used up `name` in this window (nothing counted)."""
        try:
            count = await self.counter.peek(f"{name}:{who}")
        except Exception as exc:  # noqa: BLE001
            log.warning("rate limit counter unavailable (%s): %s let through", type(exc).__name__, name)
            return None
        return max(count.reset_in, 0.001) if count.hits >= self.limits[name].requests else None


class EntryPointLimitMiddleware:
    """Counts each HTTP request to one public route (the page, the survey form, the
    token endpoint) against the caller's limit for that route: by address, as these
    routes take no bearer token."""

    def __init__(self, app: ASGIApp, *, limiter: Limiter, name: str) -> None:
        self.app = app
        self.limiter = limiter
        self.name = name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wait = await self.limiter.take(self.name, client_key(scope, principal_of(scope)))
        if wait is None:
            await self.app(scope, receive, send)
        else:
            await _too_many(scope, send, wait)


class TooManyRequests(Response):
    """The limiter's 429 answer as a response an endpoint returns."""

    def __init__(self, wait: float) -> None:
        super().__init__(status_code=429)
        self.wait = wait

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _too_many(scope, send, self.wait)


async def _too_many(scope: Scope, send: Send, wait: float) -> None:
    seconds = max(1, math.ceil(wait))
    await send_json_error(
        scope,
        send,
        "RATE_LIMITED",
        f"Too many requests; try again in {seconds} s",
        headers={"retry-after": str(seconds)},
        retryAfter=seconds,
    )


class SharedCounter:
    """A `RedisCounter` while Redis answers; this instance's `InProcessCounter` while it
    does not (Redis is probed again once per `RedisHealth.retry_seconds`)."""

    USE = "rate limits"
    CONSEQUENCE = "each instance counts rate limits on its own"

    def __init__(self, shared: Counter, local: Counter, *, health: RedisHealth) -> None:
        self.shared = shared
        self.local = local
        self.health = health

    async def hit(self, key: str, window: float) -> Count:
        if self.health.should_try(self.USE):
            try:
                count = await self.shared.hit(key, window)
            except Exception as exc:  # noqa: BLE001 (any Redis failure: count here instead)
                self.health.failed(self.USE, exc, consequence=self.CONSEQUENCE)
            else:
                self.health.succeeded(self.USE)
                return count
        return await self.local.hit(key, window)

    async def peek(self, key: str) -> Count:
        if self.health.is_up(self.USE):
            try:
                return await self.shared.peek(key)
            except Exception as exc:  # noqa: BLE001
                self.health.failed(self.USE, exc, consequence=self.CONSEQUENCE)
        return await self.local.peek(key)

    async def aclose(self) -> None:
        await self.shared.aclose()
        await self.local.aclose()


def build_counter(redis_url: str | None, *, prefix: str, health: RedisHealth | None = None) -> Counter:
    if redis_url:
        return SharedCounter(RedisCounter(redis_url, prefix=prefix), InProcessCounter(),
                             health=health or RedisHealth())
    return InProcessCounter()


__all__ = [
    "Count",
    "Counter",
    "EntryPointLimitMiddleware",
    "InProcessCounter",
    "Limit",
    "Limiter",
    "RateLimitMiddleware",
    "RateLimits",
    "RedisCounter",
    "SharedCounter",
    "TooManyRequests",
    "build_counter",
    "caller_key",
    "client_key",
]
