"""Fault tests over the real sample services: injected latency, failures, a service
down and a service stopped mid-run. Each test runs its own services and hub."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from hub.app import create_app
from hub.demo import DemoSources, ensure_demo_data, start_demo_sources
from hub.settings import Settings

REGION_FILE = Path(__file__).resolve().parents[3] / "hub" / "reference" / "regions.yaml"
TIMEOUT = 1.0  # generous: a loaded machine must not turn a healthy source into a slow one
TRACK = "query($a: String!, $c: String!) { trackApplication(number: $a) { number } trackComplaint(number: $c) { number } }"



@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("faults")
    ensure_demo_data(path, residents=150, region_file=REGION_FILE)
    return path


@pytest.fixture
def stack(data_dir: Path) -> Iterator[DemoSources]:
    running = start_demo_sources(data_dir)
    try:
        yield running
    finally:
        running.stop()


def hub_settings(stack: DemoSources, tmp_path: Path, **resilience: Any) -> Settings:
    rules = {"timeout": TIMEOUT, "retries": 1, "backoff": 0.01, "circuit_threshold": 3,
             "circuit_cooldown": 1.0, "write_backoff": 0.3, **resilience}
    sources = {k: v.model_copy(update=rules) for k, v in stack.source_settings().items()}
    return Settings(data_dir=tmp_path, store_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
                    issuer={"development": True}, sources=sources, trace_sources=True,
                    metrics_refresh_seconds=0, events={"read_feeds": False})  # no background reads


@pytest.fixture
def make_hub(stack: DemoSources, tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(**resilience: Any) -> TestClient:
        client = TestClient(create_app(hub_settings(stack, tmp_path, **resilience)))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def admin(stack: DemoSources, name: str, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(method, stack.url_of(name) + path, json=body,
                             headers={"X-API-Key": stack.api_key}, timeout=5)
    response.raise_for_status()
    return response.json()


def faults(stack: DemoSources, name: str, **setting: Any) -> None:
    admin(stack, name, "POST", "/_admin/faults", setting)


def first_numbers(stack: DemoSources) -> dict[str, str]:
    applications = admin(stack, "licensing", "POST", "/api/v1/permohonan/cari", {"limit": 1})
    complaints = admin(stack, "complaints", "POST", "/api/v1/laporan/cari", {"limit": 1})
    return {"a": applications["data"][0]["no_permohonan"], "c": complaints["data"][0]["no_tiket"]}


def track(client: TestClient, numbers: dict[str, str]) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    response = client.post("/graphql", json={"query": TRACK, "variables": numbers})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
    return response.json(), elapsed


def assert_complaints_unavailable(answer: dict[str, Any], numbers: dict[str, str]) -> None:
    assert answer["data"] == {"trackApplication": {"number": numbers["a"]}, "trackComplaint": None}
    error = answer["errors"][0]
    assert error["path"] == ["trackComplaint"]
    assert error["extensions"]["code"] == "SOURCE_UNAVAILABLE"
    assert error["extensions"]["source"] == "complaints"


def test_a_slow_source_gives_partial_results_within_the_timeout(
    stack: DemoSources, make_hub: Callable[..., TestClient]
) -> None:
    hub = make_hub(cache_ttl=0)
    numbers = first_numbers(stack)
    healthy, _ = track(hub, numbers)  # the hub's first request pays one-time start-up work
    assert "errors" not in healthy
    faults(stack, "complaints", latency_ms=3000)
    answer, elapsed = track(hub, numbers)
    assert_complaints_unavailable(answer, numbers)
    assert "no answer within" in answer["errors"][0]["message"]
    assert elapsed < TIMEOUT + 0.4


def test_a_failing_source_opens_the_circuit_which_recovers(
    stack: DemoSources, make_hub: Callable[..., TestClient]
) -> None:
    hub = make_hub(cache_ttl=0)
    numbers = first_numbers(stack)
    faults(stack, "complaints", down=True)
    for _ in range(3):
        answer, _ = track(hub, numbers)
        assert_complaints_unavailable(answer, numbers)
    served_before = admin(stack, "complaints", "GET", "/_admin/stats")["requests"]
    answer, _ = track(hub, numbers)  # the circuit is open: the source is not called
    assert_complaints_unavailable(answer, numbers)
    assert "not called" in answer["errors"][0]["message"]
    # the source's own count proves it; a wall-clock bound cannot (the down source
    # refuses at once too) and failed under a loaded machine (0.52 s against 0.2)
    assert admin(stack, "complaints", "GET", "/_admin/stats")["requests"] == served_before
    states = hub.get("/readyz").json()["sources"]
    complaints = next(s for s in states if s["source"] == "complaints")
    assert complaints["state"] == "CIRCUIT_OPEN" and "503" in complaints["lastError"]

    faults(stack, "complaints", down=False)
    time.sleep(1.1)  # the cool-down
    answer, _ = track(hub, numbers)
    assert answer["data"]["trackComplaint"] == {"number": numbers["c"]}
    ready = hub.get("/readyz")
    complaints = next(s for s in ready.json()["sources"] if s["source"] == "complaints")
    assert ready.status_code == 200
    assert complaints["state"] == "DEGRADED"  # answering again, failed within the last minute
    assert complaints["lastSuccessAt"] > complaints["lastErrorAt"]


def test_reads_are_retried_before_giving_up(stack: DemoSources, make_hub: Callable[..., TestClient]) -> None:
    hub = make_hub(retries=2, circuit_threshold=10, cache_ttl=0)
    numbers = first_numbers(stack)
    faults(stack, "complaints", down=True)
    before = admin(stack, "complaints", "GET", "/_admin/stats")["requests"].get("POST /api/v1/laporan/cari", 0)
    answer, _ = track(hub, numbers)
    after = admin(stack, "complaints", "GET", "/_admin/stats")["requests"]["POST /api/v1/laporan/cari"]
    assert_complaints_unavailable(answer, numbers)
    assert after - before == 3


def test_recent_answers_are_served_marked_stale_when_the_source_is_down(
    stack: DemoSources, make_hub: Callable[..., TestClient]
) -> None:
    hub = make_hub()
    numbers = first_numbers(stack)
    fresh, _ = track(hub, numbers)
    assert "errors" not in fresh and "stale" not in fresh.get("extensions", {})
    faults(stack, "complaints", down=True)
    stale, _ = track(hub, numbers)
    assert stale["data"] == fresh["data"]
    assert {"source": "complaints", "operation": "complaints_by_number"} in stale["extensions"]["stale"]
    traced = {(s["source"], s["operation"]): s for s in stale["extensions"]["sources"]}
    assert traced[("complaints", "complaints_by_number")]["stale"] is True


def test_a_write_that_timed_out_after_the_source_accepted_it_is_not_written_twice(
    stack: DemoSources, make_hub: Callable[..., TestClient], data_dir: Path
) -> None:
    hub = make_hub(timeout=0.5, write_retries=2, write_backoff=0.8)
    sample = admin(stack, "complaints", "POST", "/api/v1/laporan/cari", {"limit": 1})["data"][0]
    title = f"Lampu jalan padam {uuid.uuid4().hex[:8]}"
    mutation = (
        "mutation($t: String!, $k: String!, $c: String!) { submitComplaint(input: {title: $t, "
        'content: "Lampu jalan di depan sekolah padam sejak seminggu", classification: COMPLAINT, '
        "category: $c, kelurahan: $k}) { number } }"
    )
    variables = {"t": title, "k": sample["kode_kelurahan"], "c": sample["kategori"]}
    faults(stack, "complaints", latency_ms=1000)  # the first attempt times out; the source still writes
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(hub.post, "/graphql", json={"query": mutation, "variables": variables})
        time.sleep(0.7)  # after the first attempt timed out, before the retry is sent
        faults(stack, "complaints", latency_ms=0)
        response = pending.result(timeout=10)
    answer = response.json()
    assert "errors" not in answer, answer
    number = answer["data"]["submitComplaint"]["number"]
    with sqlite3.connect(data_dir / "complaints.db") as db:
        rows = db.execute("SELECT no_tiket FROM laporan WHERE judul = ?", (title,)).fetchall()
    assert rows == [(number,)]
    stats = admin(stack, "complaints", "GET", "/_admin/stats")["requests"]
    assert stats["POST /api/v1/laporan"] >= 2  # the retry reached the source and got the first receipt


def test_a_service_stopped_mid_run_degrades_to_partial_results(
    stack: DemoSources, make_hub: Callable[..., TestClient]
) -> None:
    hub = make_hub(cache_ttl=0, circuit_threshold=10)
    numbers = first_numbers(stack)
    healthy, _ = track(hub, numbers)
    assert "errors" not in healthy
    next(s for s in stack.services if s.name == "complaints").stop()
    answer, elapsed = track(hub, numbers)
    assert_complaints_unavailable(answer, numbers)
    assert elapsed < TIMEOUT + 0.4
    ready = hub.get("/readyz")
    assert ready.status_code == 503
    states = {s["source"]: s["state"] for s in ready.json()["sources"]}
    assert states == {"population": "UP", "licensing": "UP", "complaints": "DOWN"}

