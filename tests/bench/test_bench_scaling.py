"""`hub bench --saturate`'s parts: the steps, when to stop, CPU by role, the model's
ideal and the comparison of runs (figures made up, nothing timed)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench import BenchError, BenchOptions
from bench.compare import compare, main
from bench.load import ProcessMonitor
from bench.run import postgres_database
from bench.scaling import concurrency_steps, ideal_rps, role_costs, saturated, saturation, saturation_lines


def test_the_clients_double_up_to_the_most_asked() -> None:
    assert concurrency_steps(1) == [1]
    assert concurrency_steps(8) == [1, 2, 4, 8]
    assert concurrency_steps(12) == [1, 2, 4, 8, 12]


@pytest.mark.parametrize(("rps", "done"), [
    pytest.param([10, 20], False, id="two-steps-are-too-few"),
    pytest.param([10, 20, 40], False, id="still-growing"),
    pytest.param([10, 20, 20.5, 40], False, id="one-flat-step-then-growth"),
    pytest.param([10, 20, 20.5, 20.9], True, id="two-flat-steps"),
    pytest.param([10, 30, 25, 26], True, id="a-drop-then-no-recovery"),
])
def test_the_search_stops_after_two_steps_without_5_percent_more(rps: list[float], done: bool) -> None:
    assert saturated(rps) is done


def test_cpu_is_grouped_by_role() -> None:
    per_request = {"hub": 0.1, "hub worker 1": 9.0, "hub worker 2": 10.9, "licensing": 4.0, "complaints": 2.0,
                   "notifications": None, "postgres (store)": 3.0, "load generator": 1.0}
    assert role_costs(per_request) == {"hub": 20.0, "sources": 6.0, "postgres": 3.0, "load generator": 1.0}


def test_one_worker_is_bound_by_its_core_and_two_by_the_cores_the_others_leave() -> None:
    per_request = {"hub": 20.0, "licensing": 4.0, "complaints": 2.0, "postgres (store)": 3.0, "load generator": 1.0}
    # one worker: one core for 20 ms a request; the others (10 ms) fit in the second core
    assert ideal_rps(per_request, cores=2, workers=1) == (50.0, "1 hub worker")
    # two workers: every process shares 2 cores at 30 ms a request
    assert ideal_rps(per_request, cores=2, workers=2) == (66.7, "2 cores shared")
    assert ideal_rps(per_request, cores=8, workers=8)[1] == "licensing (one process)"  # 4 ms: 250/s at most
    assert ideal_rps({"hub": 0.0}, cores=2, workers=1) == (None, "no CPU measured")


def _phase(rps: float, hub_ms: float, others_ms: float) -> dict:
    return {"operations": {"track": {"rps": rps, "p99_ms": 30.0, "errors": 0}},
            "cpu_ms_per_request": {"hub": hub_ms, "licensing": others_ms, "load generator": 0.5},
            "machine_busy_cores": 1.9}


def test_saturation_is_the_step_of_the_most_requests_with_its_costs_and_ideal() -> None:
    figures = saturation([(1, _phase(20, 20, 9.5)), (2, _phase(40, 20, 9.5)), (4, _phase(41, 21, 9.5)),
                          (8, _phase(39, 22, 9.5))], cores=2, workers=1)
    at = figures["at"]
    assert (at["concurrency"], at["rps"]) == (4, 41)
    assert at["cpu_ms_per_request"]["hub"] == 21
    assert at["rps_per_hub_cpu_second"] == 47.6
    assert (at["ideal_rps"], at["ideal_bound"], at["efficiency"]) == (47.6, "1 hub worker", 0.86)
    assert figures["reached"]
    lines = "\n".join(saturation_lines(figures))
    assert "at saturation: 41.0 requests/s with 4 clients" in lines and "86% of it reached" in lines
    growing = saturation([(1, _phase(20, 20, 9.5)), (2, _phase(40, 20, 9.5))], cores=2, workers=1)
    assert not growing["reached"] and "raise --concurrency" in "\n".join(saturation_lines(growing))


def test_two_runs_compare_measured_and_ideal_scaling(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one = {"saturation": saturation([(8, _phase(50, 20, 9.5))], cores=2, workers=1)}
    two = {"saturation": saturation([(8, _phase(60, 20, 9.5))], cores=2, workers=2)}
    lines = compare([one, two])
    assert lines[-1].startswith("1 -> 2 workers: throughput x1.20 measured, x1.33 the model's ideal")
    paths = [tmp_path / "w1.json", tmp_path / "w2.json"]
    for path, run in zip(paths, (one, two), strict=True):
        path.write_text(json.dumps(run))
    assert main([str(p) for p in paths]) == 0
    assert "x1.20 measured" in capsys.readouterr().out
    (tmp_path / "plain.json").write_text(json.dumps({"saturation": None}))
    assert main([str(paths[0]), str(tmp_path / "plain.json")]) == 2
    assert "[BAD_RESULTS]" in capsys.readouterr().err


def test_saturate_measures_the_hub_alone() -> None:
    with pytest.raises(BenchError, match="--saturate"):
        BenchOptions(saturate=True, direct=True).checked()


def test_the_store_database_is_named_only_on_postgresql() -> None:
    assert postgres_database("postgresql+asyncpg://postgres@127.0.0.1:5432/simpul_w2") == "simpul_w2"
    assert postgres_database(None) is None
    assert postgres_database("sqlite+aiosqlite:///x.db") is None


async def test_the_monitor_counts_the_load_generator_and_the_machine() -> None:
    monitor = ProcessMonitor({"load generator": os.getpid()}, postgres_database="simpul_no_such_database")
    monitor.start()
    sum(i * i for i in range(300_000))  # some CPU of this process
    report = await monitor.stop()
    assert report["load generator"]["cpu_seconds"] >= 0
    assert report["postgres (store)"] == {"peak_rss_mb": 0.0, "cpu_seconds": 0.0}
    assert monitor.machine_cpu_seconds is not None and monitor.machine_cpu_seconds >= 0
