"""Whether this instance reaches Redis, per use, as seen by the calls that use it.

An outage is logged once when it starts and once when it ends (per use: rate limits,
the revocation channel), never once per request; every failed call increments
`simpul_redis_errors_total{use}`, every change `simpul_redis_state_changes_total{use,
state}`, and `simpul_redis_up{use}` tells the current state. While a use is down,
`should_try()` lets one probe through per `retry_seconds`, so that requests do not each
wait for a connect timeout against a Redis that is gone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge

log = logging.getLogger("simpul.redis")


@dataclass(slots=True)
class _State:
    up: bool = True
    down_since: float = 0.0
    failures: int = 0  # failed calls since the outage started
    next_try: float = 0.0
    probing: bool = False


class RedisHealth:
    def __init__(
        self,
        *,
        registry: CollectorRegistry | None = None,
        retry_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        registry = registry if registry is not None else CollectorRegistry()
        self.retry_seconds = retry_seconds
        self._clock = clock
        self._states: dict[str, _State] = {}
        self._lock = threading.Lock()
        self.errors = Counter("simpul_redis_errors", "Failed calls to Redis, by use", ["use"], registry=registry)
        self.changes = Counter("simpul_redis_state_changes", "Redis outages begun (down) and ended (up), by use",
                               ["use", "state"], registry=registry)
        self.up_gauge = Gauge("simpul_redis_up", "1 when the last call to Redis for this use succeeded",
                              ["use"], registry=registry, multiprocess_mode="livemin")  # any worker down: 0

    def is_up(self, use: str) -> bool:
        return self._state(use).up

    def should_try(self, use: str) -> bool:
        """Up: always. Down: one probe at a time, at most one per `retry_seconds`."""
        with self._lock:
            state = self._state(use)
            if state.up:
                return True
            if state.probing or self._clock() < state.next_try:
                return False
            state.probing = True
            return True

    def failed(self, use: str, exc: BaseException, *, consequence: str) -> None:
        self.errors.labels(use).inc()
        with self._lock:
            state = self._state(use)
            state.probing = False
            state.failures += 1
            state.next_try = self._clock() + self.retry_seconds
            if not state.up:
                return
            state.up, state.down_since, state.failures = False, self._clock(), 1
        self.changes.labels(use, "down").inc()
        self.up_gauge.labels(use).set(0)
        log.warning("Redis unavailable for %s (%s: %s); %s until it is back",
                    use, type(exc).__name__, str(exc)[:200], consequence)

    def succeeded(self, use: str) -> None:
        with self._lock:
            state = self._state(use)
            state.probing = False
            if state.up:
                return
            state.up = True
            seconds, failures = self._clock() - state.down_since, state.failures
        self.changes.labels(use, "up").inc()
        self.up_gauge.labels(use).set(1)
        log.warning("Redis reachable again for %s after %.1f s (%d failed calls)", use, seconds, failures)

    def _state(self, use: str) -> _State:
        state = self._states.get(use)
        if state is None:
            state = self._states[use] = _State()
            self.up_gauge.labels(use).set(1)
        return state
