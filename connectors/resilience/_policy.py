"""How the hub treats one source: timeouts, retries, circuit breaker, stale answers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class ResiliencePolicy:
    """Per-source settings (all times in seconds).

    - `timeout`: one attempt of any call;
    - `deadline`: a read with all its retries (default: `timeout`, so that a query
      touching a slow source answers within the timeout, not after it);
    - `retries`: extra attempts of a read that failed with SOURCE_UNAVAILABLE, after an
      exponential backoff with jitter starting at `backoff` and capped at `backoff_max`;
    - `write_retries`, `write_backoff`: extra attempts of a write that timed out or
      failed, always with the same idempotency key (a write is never retried without
      one; the hub makes one when the caller gave none);
    - `circuit_threshold` consecutive failures open the circuit; after
      `circuit_cooldown` one trial call is let through (half-open);
    - `cache_ttl`: how old a recent answer may be to be served, marked stale, when the
      source fails (0 turns the cache off); `cache_size` bounds it (records held).
    """

    timeout: float = 5.0
    deadline: float | None = None
    retries: int = 2
    backoff: float = 0.05
    backoff_max: float = 1.0
    write_retries: int = 2
    write_backoff: float = 0.5
    circuit_threshold: int = 5
    circuit_cooldown: float = 30.0
    cache_ttl: float = 300.0
    cache_size: int = 10_000

    def __post_init__(self) -> None:
        positive = {"timeout": self.timeout, "circuit_cooldown": self.circuit_cooldown}
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"{name} must be positive, got {value!r}")
        if self.deadline is not None and not self.deadline > 0:
            raise ValueError(f"deadline must be positive, got {self.deadline!r}")
        counts = {
            "retries": self.retries,
            "write_retries": self.write_retries,
            "cache_size": self.cache_size,
        }
        for name, count in counts.items():
            if count < 0:
                raise ValueError(f"{name} must not be negative, got {count!r}")
        if self.circuit_threshold < 1:
            raise ValueError(f"circuit_threshold must be at least 1, got {self.circuit_threshold!r}")
        for name, value in {"backoff": self.backoff, "backoff_max": self.backoff_max,
                            "write_backoff": self.write_backoff, "cache_ttl": self.cache_ttl}.items():
            if value < 0:
                raise ValueError(f"{name} must not be negative, got {value!r}")

    @property
    def read_deadline(self) -> float:
        return self.deadline if self.deadline is not None else self.timeout
