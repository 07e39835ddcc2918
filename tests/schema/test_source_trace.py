"""The source trace's wait: the time a request had at least one source call in flight."""

from __future__ import annotations

import asyncio

import pytest

from schema.trace import SourceTrace


def _clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [100.0]
    monkeypatch.setattr("schema.trace.time.perf_counter", lambda: now[0])
    return now


def test_calls_one_after_the_other_add_up(monkeypatch: pytest.MonkeyPatch) -> None:
    now = _clock(monkeypatch)
    trace = SourceTrace()
    with trace.measure("population", "citizens_by_nik"):
        now[0] += 0.002
    now[0] += 0.010  # the hub's own work between the calls is not waiting
    with trace.measure("licensing", "applications_by_applicant"):
        now[0] += 0.003
    assert trace.wait_ms() == 5.0
    assert [t["ms"] for t in trace.as_list()] == [3.0, 2.0]  # licensing, population


def test_calls_in_parallel_count_once(monkeypatch: pytest.MonkeyPatch) -> None:
    now = _clock(monkeypatch)
    trace = SourceTrace()
    licensing = trace.measure("licensing", "applications_by_applicant")
    complaints = trace.measure("complaints", "complaints_by_reporter")
    licensing.__enter__()
    now[0] += 0.001
    complaints.__enter__()
    now[0] += 0.004
    licensing.__exit__(None, None, None)
    now[0] += 0.002
    complaints.__exit__(None, None, None)
    assert trace.wait_ms() == 7.0  # 100.000 to 100.007, not 5 + 6
    assert {t["source"]: t["ms"] for t in trace.as_list()} == {"licensing": 5.0, "complaints": 6.0}


def test_a_call_in_flight_counts_up_to_now(monkeypatch: pytest.MonkeyPatch) -> None:
    now = _clock(monkeypatch)
    trace = SourceTrace()
    with trace.measure("population", "list_citizens"):
        now[0] += 0.004
        assert trace.wait_ms() == 4.0
    assert trace.wait_ms() == 4.0


def test_a_failing_call_still_ends_its_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    now = _clock(monkeypatch)
    trace = SourceTrace()
    with pytest.raises(RuntimeError), trace.measure("complaints", "complaints_by_reporter"):
        now[0] += 0.003
        raise RuntimeError("down")
    now[0] += 0.050
    assert trace.wait_ms() == 3.0


async def test_concurrent_tasks_measure_their_union() -> None:
    trace = SourceTrace()

    async def call(source: str, seconds: float) -> None:
        with trace.measure(source, "op"):
            await asyncio.sleep(seconds)

    await asyncio.gather(call("licensing", 0.05), call("complaints", 0.05))
    tallies = {t["source"]: t["ms"] for t in trace.as_list()}
    assert trace.wait_ms() < tallies["licensing"] + tallies["complaints"]
    assert trace.wait_ms() >= max(tallies.values())
