"""A circuit breaker per source.

    CLOSED ──(threshold consecutive failures)──► OPEN ──(cool-down elapsed)──► HALF_OPEN
       ▲                                          ▲                                │
       └────────────(the trial call succeeds)─────┼────────(the trial fails)───────┘

While OPEN every call is refused at once (`CircuitOpen`). HALF_OPEN lets one trial
call through at a time; its outcome closes or reopens the circuit. State changes are
under a lock, so the breaker may be shared by tasks and threads.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable


class CircuitState(enum.Enum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


class CircuitBreaker:
    def __init__(
        self,
        *,
        threshold: int,
        cooldown: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if threshold < 1 or cooldown <= 0:
            raise ValueError("threshold must be at least 1 and cooldown positive")
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> CircuitState:
        with self._lock:
            return self._state()

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def retry_in(self) -> float:
        """Seconds until a trial call may go through (0 when calls are allowed)."""
        with self._lock:
            if self._opened_at is None:
                return 0.0
            return max(0.0, self._opened_at + self.cooldown - self._clock())

    def acquire(self) -> bool:
        """May a call go through now? In HALF_OPEN only one trial call at a time."""
        with self._lock:
            state = self._state()
            if state is CircuitState.CLOSED:
                return True
            if state is CircuitState.HALF_OPEN and not self._trial_running:
                self._trial_running = True
                return True
            return False

    def success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_running = False

    def failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._trial_running or self._failures >= self.threshold:
                self._opened_at = self._clock()
            self._trial_running = False

    def release(self) -> None:
        """A call that went through ended without a verdict on the source (e.g. the
        source refused the request as invalid): let the next trial through."""
        with self._lock:
            self._trial_running = False

    def _state(self) -> CircuitState:
        if self._opened_at is None:
            return CircuitState.CLOSED
        if self._clock() - self._opened_at >= self.cooldown:
            return CircuitState.HALF_OPEN
        return CircuitState.OPEN
