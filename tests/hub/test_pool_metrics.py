"""The sources' HTTP pools in the hub's metrics: connections in use, idle and waiting,
and the pools replaced, read when scraped (one process) or copied into the shared files
(`hub serve --workers`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import values
from prometheus_client.values import MultiProcessValue

from connectors import RestLicensingSource, SourceTimeout, SourceUnavailable
from connectors.resilience import ResiliencePolicy, guarded
from hub.metrics import MULTIPROC_ENV, HubMetrics, aggregated
from hub.pool_metrics import SourcePools, _SharedFiles, watch_pools
from tests.support.slow_http import LeakedConnection, slow_server


def sample(metrics: HubMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


async def answered(source: RestLicensingSource) -> None:
    """One exchange over the pool (the test server's `{}` is not a healthy answer)."""
    with contextlib.suppress(SourceUnavailable):
        await source.check()


async def until(condition, seconds: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "not reached in time"
        await asyncio.sleep(0.01)


async def test_a_scrape_shows_the_connection_in_use_and_the_request_waiting_for_one() -> None:
    release = asyncio.Event()
    async with slow_server(release=release) as url:
        source = RestLicensingSource(url, api_key="k", max_connections=1)
        metrics = HubMetrics()
        watch_pools(metrics, [guarded(source, ResiliencePolicy(timeout=30, retries=0))])
        in_use = lambda: sample(metrics, "simpul_source_pool_connections", source="licensing", state="in_use")
        assert in_use() == 0
        assert sample(metrics, "simpul_source_pool_max_connections", source="licensing") == 1

        first = asyncio.create_task(answered(source))
        await until(lambda: in_use() == 1)
        second = asyncio.create_task(answered(source))
        await until(lambda: sample(metrics, "simpul_source_pool_waiting", source="licensing") == 1)
        assert in_use() == 1  # the limit: the second waits for the first's connection

        release.set()
        await asyncio.gather(first, second)
        assert in_use() == 0
        assert sample(metrics, "simpul_source_pool_connections", source="licensing", state="idle") == 1
        assert sample(metrics, "simpul_source_pool_waiting", source="licensing") == 0
        await source.aclose()


async def test_a_replaced_pool_is_counted() -> None:
    async with slow_server() as url:
        source = RestLicensingSource(url, api_key="k", timeout=0.2, max_connections=2)
        metrics = HubMetrics()
        watch_pools(metrics, [source])
        source._http._client._transport._pool._connections.extend([LeakedConnection(), LeakedConnection()])
        assert sample(metrics, "simpul_source_pool_connections", source="licensing", state="in_use") == 2
        assert sample(metrics, "simpul_source_pool_replacements_total", source="licensing") == 0
        with pytest.raises(SourceTimeout, match="no free connection"):
            await source.check()
        assert sample(metrics, "simpul_source_pool_replacements_total", source="licensing") == 1
        assert sample(metrics, "simpul_source_pool_connections", source="licensing", state="in_use") == 0
        await source.aclose()


def test_sources_without_an_http_pool_have_no_series() -> None:
    from connectors import InMemoryPopulationSource

    metrics = HubMetrics()
    watch_pools(metrics, [guarded(InMemoryPopulationSource([]), ResiliencePolicy())])
    families = {f.name: f for f in metrics.registry.collect()}
    assert families["simpul_source_pool_connections"].samples == []


@pytest.fixture
def multiprocess(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """prometheus_client's multiprocess mode in this process, as in a worker."""
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path))
    monkeypatch.setattr(values, "ValueClass", MultiProcessValue(lambda: 4242))
    yield tmp_path


async def test_under_workers_each_worker_copies_its_pools_into_the_shared_files(multiprocess: Path) -> None:
    release = asyncio.Event()
    async with slow_server(release=release) as url:
        busy_source = RestLicensingSource(url, api_key="k", max_connections=3)
        wedged = RestLicensingSource(url, api_key="k", timeout=0.2, max_connections=1, source_id="complaints")
        files = _SharedFiles([busy_source, wedged])
        busy = asyncio.create_task(answered(busy_source))
        await until(lambda: busy_source.pool_state().in_use == 1)
        wedged._http._client._transport._pool._connections.append(LeakedConnection())
        with pytest.raises(SourceTimeout):
            await wedged.check()
        files.write()
        files.write()  # a replacement is added once, not at every copy
        text = aggregated(str(multiprocess)).decode()
        assert 'simpul_source_pool_connections{source="licensing",state="in_use"} 1.0' in text
        assert 'simpul_source_pool_max_connections{source="licensing"} 3.0' in text
        assert 'simpul_source_pool_replacements_total{source="complaints"} 1.0' in text
        release.set()
        await busy
        files.write()
        text = aggregated(str(multiprocess)).decode()
        assert 'simpul_source_pool_connections{source="licensing",state="in_use"} 0.0' in text
        assert 'simpul_source_pool_replacements_total{source="complaints"} 1.0' in text
        await busy_source.aclose()
        await wedged.aclose()


def test_the_collector_describes_its_metrics_without_sources() -> None:
    names = {family.name for family in SourcePools(()).collect()}
    assert names == {"simpul_source_pool_connections", "simpul_source_pool_waiting",
                     "simpul_source_pool_max_connections", "simpul_source_pool_replacements"}
