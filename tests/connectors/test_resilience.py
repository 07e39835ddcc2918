"""The guard around a source: circuit breaker, retries, deadlines, idempotent write
retries and stale answers, in isolation (through the GraphQL endpoint: tests/hub/hardening/test_degraded_source.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import pytest

from connectors.errors import CircuitOpen, RecordNotFound, SourceRejected, SourceTimeout, SourceUnavailable
from connectors.resilience import (
    CircuitBreaker,
    CircuitState,
    Guard,
    RecentAnswers,
    ResiliencePolicy,
    observe_stale,
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def no_sleep(seconds: float) -> None:
    return None


def policy(**overrides: Any) -> ResiliencePolicy:
    values: dict[str, Any] = {"timeout": 0.2, "retries": 2, "backoff": 0.0, "write_backoff": 0.0,
                              "circuit_threshold": 3, "circuit_cooldown": 5.0}
    values.update(overrides)
    return ResiliencePolicy(**values)


# -- the circuit breaker ---------------------------------------------------------------


def test_the_circuit_opens_after_the_threshold_and_half_opens_after_the_cooldown() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=3, cooldown=10, clock=clock)
    for _ in range(2):
        breaker.failure()
    assert breaker.state is CircuitState.CLOSED and breaker.acquire()
    breaker.failure()
    assert breaker.state is CircuitState.OPEN and not breaker.acquire()
    clock.now = 10
    assert breaker.state is CircuitState.HALF_OPEN
    assert breaker.acquire()  # the one trial call
    assert not breaker.acquire()  # nobody else meanwhile
    breaker.success()
    assert breaker.state is CircuitState.CLOSED and breaker.consecutive_failures == 0


def test_a_failed_trial_reopens_the_circuit_for_another_cooldown() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown=10, clock=clock)
    breaker.failure()
    clock.now = 11
    assert breaker.acquire()
    breaker.failure()
    assert breaker.state is CircuitState.OPEN
    assert breaker.retry_in() == pytest.approx(10)


def test_the_breaker_is_safe_under_concurrent_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    breaker = CircuitBreaker(threshold=10_000, cooldown=1)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: breaker.failure(), range(4000)))
    assert breaker.consecutive_failures == 4000


# -- the cache of recent answers -------------------------------------------------------


def test_recent_answers_expire_and_stay_bounded() -> None:
    clock = Clock()
    cache = RecentAnswers(ttl=60, max_entries=2, clock=clock)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert cache.get("a") == (False, None) and cache.get("c") == (True, 3)
    clock.now = 61
    assert cache.get("c") == (False, None)
    cache.put(["unhashable"], 1)  # type: ignore[arg-type]
    assert len(cache) == 1


# -- reads -------------------------------------------------------------------------------


class Flaky:
    def __init__(self, failures: int, error: Exception | None = None) -> None:
        self.failures = failures
        self.calls = 0
        self.error = error or SourceUnavailable("licensing", "HTTP 503")

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "answer"


async def test_a_read_is_retried_after_transient_failures() -> None:
    guard = Guard("licensing", policy(), sleep=no_sleep)
    call = Flaky(2)
    assert await guard.read("op", call) == "answer"
    assert call.calls == 3
    assert guard.health().state == "UP"


async def test_retries_wait_the_exponential_backoff_from_the_first_failure() -> None:
    """The first wait follows the first failure: backoff·2^(n−1) for the n-th retry."""
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    guard = Guard("licensing", policy(retries=3, backoff=0.1, backoff_max=10.0, deadline=30.0, circuit_threshold=10),
                  sleep=record)
    call = Flaky(3)
    assert await guard.read("op", call) == "answer"
    assert call.calls == 4 and len(waits) == 3
    for attempt, wait in enumerate(waits, start=1):  # backoff·2^(n−1) plus up to `backoff` of jitter
        assert 0.1 * 2 ** (attempt - 1) <= wait <= 0.1 * 2 ** (attempt - 1) + 0.1


async def test_no_retry_sleeps_past_the_read_deadline() -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    guard = Guard("licensing", policy(retries=5, backoff=1.0, deadline=0.5, circuit_threshold=10),
                  sleep=record)
    call = Flaky(5)
    with pytest.raises(SourceUnavailable, match="HTTP 503"):
        await guard.read("op", call)
    assert call.calls == 1 and waits == []  # the first wait (≥ 1 s) would end after the deadline


async def test_a_read_gives_up_after_its_retries() -> None:
    guard = Guard("licensing", policy(retries=1, circuit_threshold=10), sleep=no_sleep)
    call = Flaky(5)
    with pytest.raises(SourceUnavailable):
        await guard.read("op", call)
    assert call.calls == 2
    assert guard.health().state == "DEGRADED"
    assert guard.health().last_error == "HTTP 503"


@pytest.mark.parametrize("error", [SourceRejected("licensing", "bad"), RecordNotFound("licensing", "no")])
async def test_a_refused_request_is_not_retried_and_proves_the_source_is_up(error: Exception) -> None:
    guard = Guard("licensing", policy(), sleep=no_sleep)
    call = Flaky(1, error)
    with pytest.raises(type(error)):
        await guard.read("op", call)
    assert call.calls == 1
    assert guard.health().consecutive_failures == 0


async def test_a_hanging_source_answers_within_the_read_deadline() -> None:
    guard = Guard("licensing", policy(timeout=0.2, retries=5))
    calls = 0

    async def hang() -> None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(30)

    started = time.perf_counter()
    with pytest.raises(SourceTimeout):
        await guard.read("op", hang)
    # one 0.2 s attempt, no retry after the deadline (the wall-clock bound leaves room for
    # a loaded test process: six attempts would take 1.2 s, the hang 30 s)
    assert calls == 1
    assert time.perf_counter() - started < 1.0
    assert guard.health().consecutive_failures == 1


async def test_an_open_circuit_refuses_at_once_without_calling() -> None:
    guard = Guard("licensing", policy(retries=0, circuit_threshold=2), sleep=no_sleep)
    call = Flaky(100)
    for _ in range(2):
        with pytest.raises(SourceUnavailable):
            await guard.read("op", call)
    with pytest.raises(CircuitOpen):
        await guard.read("op", call)
    assert call.calls == 2
    assert guard.health().state == "CIRCUIT_OPEN"


async def test_the_circuit_recovers_after_the_cooldown() -> None:
    clock = Clock()
    guard = Guard("licensing", policy(retries=0, circuit_threshold=1, circuit_cooldown=5), clock=clock,
                  sleep=no_sleep)
    call = Flaky(1)
    with pytest.raises(SourceUnavailable):
        await guard.read("op", call)
    assert guard.health().state == "CIRCUIT_OPEN"
    clock.now = 6
    assert guard.health().state == "DEGRADED"  # half-open: on trial
    assert await guard.read("op", call) == "answer"
    assert guard.health().state == "UP"


async def test_a_failed_batch_is_served_from_recent_answers_marked_stale() -> None:
    guard = Guard("licensing", policy(retries=0), sleep=no_sleep)
    up = True

    async def fetch(keys: Sequence[str]) -> dict[str, str]:
        if not up:
            raise SourceUnavailable("licensing", "down")
        return {k: k.upper() for k in keys if k != "missing"}

    assert await guard.batch_read("by_number", ["a", "missing"], fetch) == {"a": "A"}
    up = False
    with observe_stale() as seen:
        assert await guard.batch_read("by_number", ["missing", "a"], fetch) == {"a": "A"}
    assert seen.operations == [("licensing", "by_number")]
    with pytest.raises(SourceUnavailable):  # one key never seen: no partial guess
        await guard.batch_read("by_number", ["a", "b"], fetch)
    assert guard.health().stale_answers == 1


@pytest.mark.parametrize("operation", ["permit_types", "categories"])
async def test_reference_data_falls_back_to_the_last_good_copy_however_long_the_outage(operation: str) -> None:
    clock = Clock()
    guard = Guard("licensing", policy(retries=0, cache_ttl=300.0, circuit_threshold=100), clock=clock,
                  sleep=no_sleep)
    answers = iter([["IMB", "SIUP"], ["IMB", "SIUP", "TDP"]])
    up = True

    async def fetch() -> list[str]:
        if not up:
            raise SourceUnavailable("licensing", "down")
        return next(answers)

    with pytest.raises(SourceUnavailable):  # nothing known yet: nothing to fall back to
        up = False
        await guard.reference_read(operation, fetch)
    up = True
    assert await guard.reference_read(operation, fetch) == ["IMB", "SIUP"]
    up = False
    clock.now = 24 * 3600.0  # a day later, far past the recent answers' TTL
    with observe_stale() as seen:
        assert await guard.reference_read(operation, fetch) == ["IMB", "SIUP"]
    assert seen.operations == [("licensing", operation)]
    up = True  # back: the fresh copy replaces the old one, and is not stale
    with observe_stale() as seen:
        assert await guard.reference_read(operation, fetch) == ["IMB", "SIUP", "TDP"]
    assert not seen.stale


async def test_an_attempt_runs_within_a_budget_that_the_backend_can_read() -> None:
    from connectors._budget import remaining

    guard = Guard("licensing", policy(timeout=0.5, retries=0), sleep=no_sleep)
    seen: list[float] = []

    async def call() -> str:
        seen.append(remaining(10.0))
        return "ok"

    assert await guard.read("op", call) == "ok"
    assert 0.3 < seen[0] <= 0.5  # the guard's timeout, not the backend's own 10 s
    assert remaining(10.0) == 10.0  # nothing outside an attempt


async def test_the_circuit_opening_is_logged_once_not_per_refused_call(caplog: pytest.LogCaptureFixture) -> None:
    guard = Guard("licensing", policy(retries=0, circuit_threshold=2), sleep=no_sleep)

    async def down() -> str:
        raise SourceUnavailable("licensing", "down")

    for _ in range(10):
        with pytest.raises(SourceUnavailable):
            await guard.read("op", down)
    assert [r.getMessage() for r in caplog.records if "circuit" in r.getMessage()] == [
        "licensing: circuit open after 2 failures (last: down)"
    ]


# -- writes ------------------------------------------------------------------------------


async def test_a_write_without_a_key_gets_one_and_keeps_it_across_retries() -> None:
    guard = Guard("complaints", policy(write_retries=2), sleep=no_sleep)
    keys: list[str] = []

    async def submit(key: str) -> str:
        keys.append(key)
        if len(keys) < 3:
            raise SourceTimeout("complaints", "slow")
        return "receipt"

    assert await guard.write("submit", submit, None) == "receipt"
    assert len(keys) == 3 and len(set(keys)) == 1 and keys[0].startswith("simpul-")


async def test_a_write_keeps_the_callers_key_and_is_not_retried_when_refused() -> None:
    guard = Guard("complaints", policy(), sleep=no_sleep)
    keys: list[str] = []

    async def submit(key: str) -> str:
        keys.append(key)
        raise SourceRejected("complaints", "invalid")

    with pytest.raises(SourceRejected):
        await guard.write("submit", submit, "client-key-1")
    assert keys == ["client-key-1"]


async def test_a_timed_out_write_is_retried_with_the_same_key_and_returns_the_first_result() -> None:
    stored: dict[str, str] = {}
    attempts = 0

    async def submit(key: str) -> str:  # the source accepts, but the first answer is late
        nonlocal attempts
        attempts += 1
        receipt = stored.setdefault(key, f"LPR-{len(stored) + 1}")
        if attempts == 1:
            await asyncio.sleep(1)
        return receipt

    guard = Guard("complaints", policy(timeout=0.1))
    assert await guard.write("submit", submit, None) == "LPR-1"
    assert attempts == 2 and len(stored) == 1


def test_the_cache_is_bounded_by_records_held_not_by_entries() -> None:
    from connectors.records import Page

    cache = RecentAnswers(ttl=60, max_entries=1500, clock=lambda: 0.0)
    cache.put("page-1", Page(items=list(range(1000)), end_cursor=None, has_next=False))
    cache.put("one", 1)
    assert cache.records_held == 1001
    cache.put("page-2", Page(items=list(range(1000)), end_cursor=None, has_next=False))
    assert cache.get("page-1") == (False, None)  # the oldest goes, to stay within 1,500 records
    assert cache.get("one") == (True, 1)
    assert cache.get("page-2")[0] and cache.records_held == 1001
    cache.put("huge", Page(items=list(range(2000)), end_cursor=None, has_next=False))
    assert cache.get("huge") == (False, None)  # larger than the whole budget: not kept


def test_expired_answers_are_dropped_as_new_ones_arrive() -> None:
    now = [0.0]
    cache = RecentAnswers(ttl=10, max_entries=100, clock=lambda: now[0])
    cache.put("old", [1, 2, 3])
    now[0] = 11.0
    cache.put("new", 1)
    assert cache.records_held == 1
