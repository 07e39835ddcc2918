"""Several hub processes on one PostgreSQL store and one Redis, as deployed: `hub serve
--workers N`, two instances side by side, one killed with SIGKILL mid-load; the other
keeps serving, rate limits are shared, and `hub audit verify` finds one unbroken chain.
With the SQLite store more than one worker is refused with a message."""

from __future__ import annotations

import inspect
import itertools
import json
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from connectors import RestLicensingSource
from hub.cli import main as hub_main
from hub.demo import DemoSources
from hub.identity import development_issuer
from hub.settings import load_settings
from hub.workers import STARTUP_SECONDS
from tests.support.hub_instances import HubProcess, hub_command, write_config
from tests.support.pg_database import postgres_database
from tests.support.redis_server import PrivateRedis, free_port

pytestmark = pytest.mark.postgres

CITIZEN = "query($nik: String!) { citizen(nik: $nik) { nik fullName } }"
LIST = "{ citizens(first: 40) { edges { node { nik } } } }"
STOPPED = (0, -signal.SIGTERM)  # uvicorn re-raises the signal it handled once it has shut down


@pytest.fixture
def store_url() -> Iterator[str]:
    with postgres_database("simpul_instances") as url:
        yield url


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def config(tmp_path: Path, stack: DemoSources, store_url: str, redis: PrivateRedis) -> Path:
    return write_config(tmp_path / "hub.toml", stack, store_url=store_url, redis_url=redis.url,
                        extra=["rate_limits.per_client.anonymous = 10", "rate_limits.per_client.default = 100000"])


def officer(config: Path, data_dir: Path) -> dict[str, str]:
    issuer = development_issuer(load_settings(config, data_dir=data_dir))
    token = issuer.issue(subject="t-officer", roles=["population_officer"], department="test")
    return {"Authorization": f"Bearer {token}", "X-Access-Purpose": "population-service"}


def niks(url: str, headers: dict[str, str]) -> list[str]:
    answer = httpx.post(f"{url}/graphql", json={"query": LIST}, headers=headers, timeout=30).json()
    return [e["node"]["nik"] for e in answer["data"]["citizens"]["edges"]]


def ask(url: str, headers: dict[str, str], nik: str) -> tuple[int, Any]:
    try:
        response = httpx.post(f"{url}/graphql", json={"query": CITIZEN, "variables": {"nik": nik}},
                              headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        return 0, type(exc).__name__
    return response.status_code, response.json()


def verify(config: Path, data_dir: Path) -> dict[str, Any]:
    done = hub_command("audit", "verify", "--json", "--config", str(config), "--data-dir", str(data_dir))
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_three_workers_share_the_load_and_keep_one_unforked_ledger_chain(config: Path, tmp_path: Path) -> None:
    hub = HubProcess(config, tmp_path, workers=3).wait_ready()
    try:
        workers = hub.worker_pids()
        assert len(workers) == 3
        cpu_before = {pid: sum(psutil.Process(pid).cpu_times()[:2]) for pid in workers}
        headers = officer(config, tmp_path)
        keys = niks(hub.url, headers)
        with ThreadPoolExecutor(max_workers=12) as pool:
            answers = list(pool.map(lambda nik: ask(hub.url, headers, nik), itertools.islice(itertools.cycle(keys), 240)))
        assert all(status == 200 and body["data"]["citizen"]["nik"] for status, body in answers), answers[:3]
        busy = [pid for pid in workers if sum(psutil.Process(pid).cpu_times()[:2]) - cpu_before[pid] > 0.05]
        assert len(busy) >= 2, "the load was served by more than one worker"

        age = time.time() - psutil.Process(workers[0]).create_time()
        time.sleep(max(0.0, STARTUP_SECONDS + 1 - age))  # one that dies sooner fails the start instead
        os.kill(workers[0], signal.SIGKILL)  # a worker dies: the supervisor starts another
        deadline = time.monotonic() + 60
        while len(set(hub.worker_pids()) - set(workers)) < 1 or len(hub.worker_pids()) < 3:
            assert time.monotonic() < deadline, hub.output()
            time.sleep(0.2)
        answers = [ask(hub.url, headers, nik) for nik in keys[:12]]
        assert all(status == 200 for status, _ in answers), answers
    finally:
        assert hub.stop() in STOPPED, hub.output()
    report = verify(config, tmp_path)
    assert report["ok"] and report["entries"] >= 240 + 12 + len(keys)


def graphql_requests(text: str) -> float:
    """The sum of `simpul_http_requests_total` over /graphql answers in one scrape."""
    from prometheus_client.parser import text_string_to_metric_families

    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == "simpul_http_requests_total" and sample.labels["route"] == "/graphql")


def pool_limit(text: str, source: str) -> float | None:
    """`simpul_source_pool_max_connections` of a source in one scrape."""
    from prometheus_client.parser import text_string_to_metric_families

    return next((sample.value for family in text_string_to_metric_families(text) for sample in family.samples
                 if sample.name == "simpul_source_pool_max_connections" and sample.labels["source"] == source), None)


@pytest.mark.parametrize("own_port", [False, True], ids=["main-port", "metrics-port"])
def test_one_scrape_shows_the_requests_of_every_worker(config: Path, tmp_path: Path, own_port: bool,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))  # where the supervisor makes its metrics directory
    metrics_port = free_port()
    hub = HubProcess(config, tmp_path, workers=2,
                     args=["--metrics-port", str(metrics_port)] if own_port else []).wait_ready()
    scrape_url = f"http://127.0.0.1:{metrics_port}/metrics" if own_port else f"{hub.url}/metrics"
    try:
        workers = hub.worker_pids()
        cpu_before = {pid: sum(psutil.Process(pid).cpu_times()[:2]) for pid in workers}
        headers = officer(config, tmp_path)
        keys = niks(hub.url, headers)
        sent = 1 + 120
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda nik: ask(hub.url, headers, nik), itertools.islice(itertools.cycle(keys), 120)))
        assert all(status == 200 for status, _ in answers), answers[:3]
        busy = [pid for pid in workers if sum(psutil.Process(pid).cpu_times()[:2]) - cpu_before[pid] > 0.05]
        assert len(busy) == 2, "the requests were spread over both workers"

        scrape = httpx.get(scrape_url, timeout=10).text
        assert graphql_requests(scrape) == sent  # not one worker's share
        pool = inspect.signature(RestLicensingSource).parameters["max_connections"].default
        assert pool_limit(scrape, "licensing") == 2 * pool  # each worker's HTTP pool, summed
        assert [d.name.startswith("simpul-metrics-") for d in temp.iterdir()] == [True]
        if own_port:
            assert httpx.get(f"{hub.url}/metrics", timeout=10).status_code == 404  # only on its own port

        age = time.time() - psutil.Process(workers[0]).create_time()
        time.sleep(max(0.0, STARTUP_SECONDS + 1 - age))  # one that dies sooner is not restarted
        os.kill(workers[0], signal.SIGKILL)  # a worker's counts outlive it: totals never go back
        deadline = time.monotonic() + 60
        while len(set(hub.worker_pids()) - set(workers)) < 1 or len(hub.worker_pids()) < 2:
            assert time.monotonic() < deadline, hub.output()
            time.sleep(0.2)
        assert graphql_requests(httpx.get(scrape_url, timeout=10).text) == sent
        ask(hub.url, headers, keys[0])
        assert graphql_requests(httpx.get(scrape_url, timeout=10).text) == sent + 1
    finally:
        assert hub.stop() in STOPPED, hub.output()
    assert list(temp.iterdir()) == []  # the metrics directory is removed at the stop


def test_two_instances_share_the_store_and_redis_and_one_killed_mid_load_leaves_the_other_serving(
    config: Path, tmp_path: Path
) -> None:
    first = HubProcess(config, tmp_path).wait_ready()
    second = HubProcess(config, tmp_path).wait_ready()
    try:
        # one rate limit across both: 10 anonymous requests in all, wherever they land
        me = {"query": "{ me { anonymous } }"}
        statuses = [httpx.post(f"{hub.url}/graphql", json=me, timeout=10).status_code
                    for hub in [first, second] * 8]
        assert statuses.count(200) == 10 and statuses.count(429) == 6, statuses

        headers = officer(config, tmp_path)
        keys = niks(first.url, headers)
        with ThreadPoolExecutor(max_workers=8) as pool:
            on_first = [pool.submit(ask, first.url, headers, nik) for nik in keys * 4]
            on_second = [pool.submit(ask, second.url, headers, nik) for nik in keys * 2]
            while sum(f.done() for f in on_first) < 30:
                pass
            first.kill()  # SIGKILL, mid-load
            after = [pool.submit(ask, second.url, headers, nik) for nik in keys]
            first_answers = [f.result() for f in on_first]
            second_answers = [f.result() for f in on_second + after]
        assert any(status == 0 for status, _ in first_answers), "the kill came mid-load"
        assert all(status == 200 and body["data"]["citizen"]["nik"] for status, body in second_answers)
    finally:
        first.stop()
        assert second.stop() in STOPPED and "Application shutdown complete" in second.output(), second.output()
    report = verify(config, tmp_path)
    delivered = sum(1 for status, _ in first_answers if status == 200) + len(second_answers)
    assert report["ok"] and report["entries"] >= delivered  # nothing delivered without its entry


def test_more_than_one_worker_on_the_sqlite_store_is_refused_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert hub_main(["serve", "--data-dir", str(tmp_path), "--workers", "2", "--port", "0"]) == 2
    error = capsys.readouterr().err
    assert "--workers 2" in error and "SQLite" in error and "PostgreSQL" in error
