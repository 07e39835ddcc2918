"""The guard around every call to one source: timeout, retries, circuit, stale cache.

    reads   breaker check → attempt under `timeout` → retry SOURCE_UNAVAILABLE with
            exponential backoff and jitter, all within `deadline` → on failure, a
            recent answer marked stale, else the error
    writes  breaker check → attempt under `timeout` → retry with the *same*
            idempotency key (made here when the caller gave none)

Only `SourceUnavailable` (unreachable, 5xx, timeout) counts against the source; a
request the source refused (`SourceRejected`, `RecordNotFound`) proves it is up.

Each attempt runs inside `call_budget(timeout)`: a backend that bounds its own I/O (the
HTTP client) stops by itself within the budget; the guard's `asyncio.timeout` fires only
`BACKSTOP` seconds later, for a backend that did not (cancelling a request in the middle
of a connection pool's bookkeeping is what wedged the HTTP pool, see `connectors.http`).

Reference data (permit types, complaint categories) is small and changes rarely: its
last good answer is kept for as long as the process runs and served, marked stale,
whenever the source fails, however long the outage (`reference_read`).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from connectors._budget import call_budget
from connectors.errors import CircuitOpen, ConnectorError, SourceTimeout, SourceUnavailable
from connectors.resilience._breaker import CircuitBreaker, CircuitState
from connectors.resilience._cache import RecentAnswers
from connectors.resilience._policy import ResiliencePolicy
from connectors.resilience._stale import note_stale

log = logging.getLogger("connectors.resilience")

T = TypeVar("T")

#: How long after the budget the guard cancels an attempt that did not stop by itself.
BACKSTOP = 0.25


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """What the hub knows about a source from its recent calls."""

    source: str
    state: str  # UP, DEGRADED, CIRCUIT_OPEN (DOWN is decided by a failed health check)
    circuit: CircuitState
    consecutive_failures: int
    last_error: str | None
    last_error_at: datetime | None
    last_success_at: datetime | None
    stale_answers: int
    retry_in: float  # seconds until the circuit lets a trial call through


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, SourceUnavailable) and not isinstance(exc, CircuitOpen)


class Guard:
    def __init__(
        self,
        source_id: str,
        policy: ResiliencePolicy,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.source_id = source_id
        self.policy = policy
        self.breaker = CircuitBreaker(
            threshold=policy.circuit_threshold, cooldown=policy.circuit_cooldown, clock=clock
        )
        self.cache = RecentAnswers(ttl=policy.cache_ttl, max_entries=policy.cache_size, clock=clock)
        self._sleep = sleep
        self._last_error: str | None = None
        self._last_error_at: datetime | None = None
        self._last_success_at: datetime | None = None
        self._stale_answers = 0
        self._reference: dict[str, Any] = {}

    # -- calls -------------------------------------------------------------------------

    async def read(self, operation: str, call: Callable[[], Awaitable[T]]) -> T:
        """`call()` with retries, all within the read deadline."""
        return await self._with_retries(
            operation,
            call,
            attempts=1 + self.policy.retries,
            backoff=self.policy.backoff,
            deadline=self.policy.read_deadline,
        )

    async def cached_read(
        self, operation: str, key: Hashable, call: Callable[[], Awaitable[T]]
    ) -> T:
        """A read whose whole answer is kept, and served marked stale if the source fails."""
        try:
            answer = await self.read(operation, call)
        except SourceUnavailable:
            found, value = self.cache.get((operation, key))
            if not found:
                raise
            self._served_stale(operation)
            return value  # type: ignore[no-any-return]
        self.cache.put((operation, key), answer)
        return answer

    async def reference_read(self, operation: str, call: Callable[[], Awaitable[T]]) -> T:
        """Reference data: the last good answer is served, marked stale, whenever the
        source fails (no age limit; a successful read replaces it)."""
        try:
            answer = await self.read(operation, call)
        except SourceUnavailable:
            if operation not in self._reference:
                raise
            self._served_stale(operation)
            return self._reference[operation]  # type: ignore[no-any-return]
        self._reference[operation] = answer
        return answer

    async def batch_read(
        self,
        operation: str,
        keys: list[Any],
        call: Callable[[list[Any]], Awaitable[dict[Any, T]]],
    ) -> dict[Any, T]:
        """A look-up by keys whose answer is kept per key (absence included); when the
        source fails and every key has a recent answer, those are served, marked stale."""
        try:
            found = await self.read(operation, lambda: call(keys))
        except SourceUnavailable:
            stale: dict[Any, T] = {}
            for key in keys:
                hit, value = self.cache.get((operation, key))
                if not hit:
                    raise
                if value is not _ABSENT:
                    stale[key] = value
            self._served_stale(operation)
            return stale
        for key in keys:
            self.cache.put((operation, key), found.get(key, _ABSENT))
        return found

    async def write(
        self,
        operation: str,
        call: Callable[[str], Awaitable[T]],
        idempotency_key: str | None,
        *,
        timeout: float | None = None,
    ) -> T:
        """`call(key)` with the caller's idempotency key or a new one, retried with it.
        `timeout` replaces the policy's for each attempt (an upload takes longer)."""
        key = idempotency_key or f"simpul-{uuid.uuid4().hex}"
        return await self._with_retries(
            operation,
            lambda: call(key),
            attempts=1 + self.policy.write_retries,
            backoff=self.policy.write_backoff,
            attempt_timeout=timeout,
        )

    async def check(self, call: Callable[[], Awaitable[None]]) -> None:
        """A health check: one attempt, through the circuit (it may be the trial call)."""
        await self._attempt("check", call)

    # -- state -------------------------------------------------------------------------

    def health(self) -> SourceHealth:
        circuit = self.breaker.state
        failures = self.breaker.consecutive_failures
        if circuit is CircuitState.OPEN:
            state = "CIRCUIT_OPEN"
        elif circuit is CircuitState.HALF_OPEN or failures:
            state = "DEGRADED"
        else:
            state = "UP"
        return SourceHealth(
            source=self.source_id,
            state=state,
            circuit=circuit,
            consecutive_failures=failures,
            last_error=self._last_error,
            last_error_at=self._last_error_at,
            last_success_at=self._last_success_at,
            stale_answers=self._stale_answers,
            retry_in=round(self.breaker.retry_in(), 3),
        )

    # -- internals ---------------------------------------------------------------------

    async def _with_retries(
        self,
        operation: str,
        call: Callable[[], Awaitable[T]],
        *,
        attempts: int,
        backoff: float,
        deadline: float | None = None,
        attempt_timeout: float | None = None,
    ) -> T:
        loop = asyncio.get_running_loop()
        ends = loop.time() + deadline if deadline is not None else float("inf")
        stop: stop_base = stop_after_attempt(attempts)
        if deadline is not None:
            stop = stop | stop_before_delay(deadline)
        retrying = AsyncRetrying(
            stop=stop,
            wait=wait_exponential_jitter(multiplier=backoff, max=self.policy.backoff_max, jitter=backoff),
            retry=retry_if_exception(_retryable),
            reraise=True,
            sleep=self._sleep,
        )
        async for attempt in retrying:
            with attempt:
                remaining = ends - loop.time()
                if remaining <= 0:
                    raise self._timeout(operation)
                return await self._attempt(
                    operation, call, timeout=min(attempt_timeout or self.policy.timeout, remaining)
                )
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    async def _attempt(
        self, operation: str, call: Callable[[], Awaitable[T]], *, timeout: float | None = None
    ) -> T:
        if not self.breaker.acquire():
            raise CircuitOpen(
                self.source_id,
                f"not called for {self.breaker.retry_in():.0f} s after repeated failures "
                f"(last: {self._last_error or 'unknown'})",
                operation=operation,
            )
        budget = timeout or self.policy.timeout
        try:
            with call_budget(budget):
                async with asyncio.timeout(budget + BACKSTOP):
                    result = await call()
        except TimeoutError as exc:
            error = self._timeout(operation, timeout)
            self._failed(error)
            raise error from exc
        except SourceUnavailable as exc:
            self._failed(exc)
            raise
        except ConnectorError:
            self._succeeded()  # the source answered: it refused the request
            raise
        except BaseException:
            self.breaker.release()
            raise
        self._succeeded()
        return result

    def _timeout(self, operation: str, seconds: float | None = None) -> SourceTimeout:
        seconds = seconds or self.policy.timeout
        return SourceTimeout(self.source_id, f"no answer within {seconds:.3g} s", operation=operation)

    def _failed(self, exc: ConnectorError) -> None:
        was_open = self.breaker.state is CircuitState.OPEN
        self.breaker.failure()
        self._last_error = exc.message
        self._last_error_at = datetime.now(UTC)
        if not was_open and self.breaker.state is CircuitState.OPEN:  # once per opening
            log.warning("%s: circuit open after %d failures (last: %s)", self.source_id,
                        self.breaker.consecutive_failures, exc.message)

    def _succeeded(self) -> None:
        if self.breaker.state is not CircuitState.CLOSED:
            log.warning("%s: circuit closed, the source answers again", self.source_id)
        self.breaker.success()
        self._last_success_at = datetime.now(UTC)

    def _served_stale(self, operation: str) -> None:
        self._stale_answers += 1
        note_stale(self.source_id, operation)
        log.info("%s.%s: served a recent answer, marked stale", self.source_id, operation)


_ABSENT: Any = object()
