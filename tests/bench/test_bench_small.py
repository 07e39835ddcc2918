"""`hub bench` at a small scale, as CI runs it: it works end to end and every operation
of the mix makes no more source calls than its nesting depth (counts, not timings)."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from bench import default_mix
from hub.cli import main


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "results.json"
    code = main([
        "bench", "--residents", "500", "--data-dir", str(tmp / "data"),
        "--duration", "3", "--warmup", "0", "--concurrency", "4",
        "--direct", "--check-batching", "--quiet", "--json", str(out),
    ])
    assert code == 0
    return json.loads(out.read_text())


def test_every_operation_of_the_mix_ran_without_errors(results: dict) -> None:
    figures = results["phases"]["hub"]["operations"]
    assert set(figures) == {op.name for op in default_mix()}
    for name, f in figures.items():
        assert f["requests"] >= 1, name
        assert f["errors"] == 0, (name, f["error_codes"])
        assert f["p50_ms"] is not None and f["p50_ms"] <= f["p99_ms"], name


def test_source_calls_per_request_equal_the_nesting_depth(results: dict) -> None:
    for op in default_mix():
        batching = results["phases"]["hub"]["operations"][op.name]["batching"]
        assert batching["verdict"] == "OK", (op.name, batching)
        calls = {source: f["max"] for source, f in batching["sources"].items()}
        assert calls == {source: depth for source, depth in op.depth.items()} | {
            s: 0 for s in calls if s not in op.depth
        }, op.name
    assert results["batching_ok"] is True


def test_the_direct_run_gives_an_overhead_ratio_per_operation(results: dict) -> None:
    direct = results["phases"]["direct"]["operations"]
    assert all(f["errors"] == 0 and f["requests"] >= 1 for f in direct.values()), direct
    assert set(results["overhead_p50"]) == set(direct)
    assert all(ratio is not None and ratio > 0 for ratio in results["overhead_p50"].values())
    by_round = results["overhead_p50_rounds"]
    assert set(by_round) == set(direct)
    assert all(len(ratios) == results["options"]["rounds"] for ratios in by_round.values()), by_round
    # three 1 s rounds (the default for 3 s): too few to resample, so no interval yet
    assert results["options"]["rounds"] == 3
    assert results["overhead_p50_interval"] == {name: None for name in direct}


def test_the_hubs_own_time_is_part_of_its_latency(results: dict) -> None:
    for name, f in results["phases"]["hub"]["operations"].items():
        if name == "service_metrics":  # read from the hub's store: no source call
            assert f["source_wait_p50_ms"] == 0.0, name
        else:
            assert f["source_wait_p50_ms"] > 0, name
        assert 0 < f["own_p50_ms"] <= f["p99_ms"], name


def test_the_hubs_peak_memory_is_recorded(results: dict) -> None:
    assert results["phases"]["hub"]["processes"]["hub"]["peak_rss_mb"] > 10


def test_each_process_cpu_is_recorded_per_request(results: dict) -> None:
    # the hub phase's load generator is this process, as is the direct phase's driver
    for phase, drivers in (("hub", {"hub", "load generator"}), ("direct", {"bench (direct)"})):
        per_request = results["phases"][phase]["cpu_ms_per_request"]
        assert set(per_request) == {*drivers, "licensing", "complaints", "notifications"}, per_request
        assert all(per_request[driver] > 0 for driver in drivers), per_request
        assert results["phases"][phase]["machine_busy_cores"] > 0


def test_data_is_reused_at_the_same_scale(results: dict) -> None:
    manifest = json.loads((Path(results["data_dir"]) / "manifest.json").read_text())
    assert manifest["residents"] == results["residents"] == 500


def test_the_persisted_variant_sends_its_id_and_fewer_bytes_for_the_same_answer(results: dict) -> None:
    figures = results["phases"]["hub"]["operations"]
    ad_hoc, persisted = figures["citizen_by_nik"]["wire"], figures["citizen_persisted"]["wire"]
    assert all(isinstance(v, float) and v > 0 for v in (*ad_hoc.values(), *persisted.values()))
    mix = {op.name: op for op in default_mix()}
    text, by_id = mix["citizen_by_nik"], mix["citizen_persisted"]
    assert by_id.request_body({})["documentId"] == text.document_id and "query" not in by_id.request_body({})
    # the body loses the document's text for its id ...
    variables = {"nik": "1" * 16}  # every NIK has 16 digits
    body_saved = len(orjson.dumps(text.request_body(variables))) - len(orjson.dumps(by_id.request_body(variables)))
    assert ad_hoc["request_body_bytes"] - persisted["request_body_bytes"] == pytest.approx(body_saved, abs=0.5)
    # ... and the request as a whole gains the client's header (Content-Length has a digit less or not)
    saved = body_saved - len("X-Client-Name: simpul-bench\r\n")
    assert ad_hoc["request_bytes"] - persisted["request_bytes"] == pytest.approx(saved, abs=1)
    # (the answers are not compared: each request asks for another resident, whose number
    # of applications and complaints sets the answer's size; tests/hub/persisted shows a
    # pushed operation answers exactly as its text does)
