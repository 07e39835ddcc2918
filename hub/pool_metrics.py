"""The sources' HTTP connection pools as Prometheus metrics, read when scraped.

    simpul_source_pool_connections{source, state}  connections in use (serving a request,
                                                   being opened, or stuck) and idle
    simpul_source_pool_waiting{source}             requests queued for a free connection
    simpul_source_pool_max_connections{source}     the pool's limit
    simpul_source_pool_replacements_total{source}  pools replaced because requests waited
                                                   in vain while connections held slots
                                                   without serving anyone (connectors.http)

The hub reads each source's `pool_state()` (`connectors.PooledSource`: the REST
backends, through their guards); a source without an HTTP pool (SQL, memory) has no
series. One process: a collector reads the pools at scrape time. Under `hub serve
--workers N` a scrape is answered from the files every worker writes (hub.metrics), and
one worker cannot read another's pools: each copies its own there when it starts and
every `LIVE_GAUGE_SECONDS`. The gauges are then summed over the live workers (the hub's
connections to a source in all, and their limit), and the replacements are a counter
that outlives its worker, as the request counts do.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client import Counter, Gauge
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from connectors import PooledSource, PoolState, Source
from hub.metrics import HubMetrics, multiprocess_dir, write_periodically

CONNECTIONS = "simpul_source_pool_connections"
WAITING = "simpul_source_pool_waiting"
LIMIT = "simpul_source_pool_max_connections"
REPLACEMENTS = "simpul_source_pool_replacements"
HELP = {
    CONNECTIONS: "HTTP connections to a source by state (in_use: serving, opening or stuck; idle)",
    WAITING: "Requests waiting for a free HTTP connection to a source",
    LIMIT: "The most HTTP connections to a source (the pool's limit)",
    REPLACEMENTS: "HTTP pools to a source replaced after requests waited in vain while connections "
                  "held slots without serving anyone",
}


def pool_states(sources: Iterable[Source]) -> dict[str, PoolState]:
    """Each pooled source's pool, by source id (sources without one are left out)."""
    states = {}
    for source in sources:
        state = source.pool_state() if isinstance(source, PooledSource) else None
        if state is not None:
            states[source.source_id] = state
    return states


class SourcePools(Collector):
    """The pools of `sources`, read each time the registry is collected."""

    def __init__(self, sources: Iterable[Source]) -> None:
        self._sources = tuple(sources)

    def collect(self) -> Iterator[Metric]:
        connections = GaugeMetricFamily(CONNECTIONS, HELP[CONNECTIONS], labels=["source", "state"])
        waiting = GaugeMetricFamily(WAITING, HELP[WAITING], labels=["source"])
        limit = GaugeMetricFamily(LIMIT, HELP[LIMIT], labels=["source"])
        replaced = CounterMetricFamily(REPLACEMENTS, HELP[REPLACEMENTS], labels=["source"])
        for source, state in pool_states(self._sources).items():
            connections.add_metric([source, "in_use"], state.in_use)
            connections.add_metric([source, "idle"], state.idle)
            waiting.add_metric([source], state.waiting)
            limit.add_metric([source], state.max_connections)
            replaced.add_metric([source], state.recycled)
        yield from (connections, waiting, limit, replaced)


class _SharedFiles:
    """Multiprocess mode: this worker's pools copied into the shared files."""

    def __init__(self, sources: Iterable[Source]) -> None:
        self._sources = tuple(sources)
        # written to the files only: a scrape reads them (hub.metrics.aggregated), no registry
        self.connections = Gauge(CONNECTIONS, HELP[CONNECTIONS], ["source", "state"], registry=None,
                                 multiprocess_mode="livesum")
        self.waiting = Gauge(WAITING, HELP[WAITING], ["source"], registry=None, multiprocess_mode="livesum")
        self.limit = Gauge(LIMIT, HELP[LIMIT], ["source"], registry=None, multiprocess_mode="livesum")
        self.replaced = Counter(REPLACEMENTS, HELP[REPLACEMENTS], ["source"], registry=None)
        self._counted: dict[str, int] = {}

    def write(self) -> None:
        for source, state in pool_states(self._sources).items():
            self.connections.labels(source, "in_use").set(state.in_use)
            self.connections.labels(source, "idle").set(state.idle)
            self.waiting.labels(source).set(state.waiting)
            self.limit.labels(source).set(state.max_connections)
            new = state.recycled - self._counted.get(source, 0)
            if new > 0:
                self.replaced.labels(source).inc(new)
                self._counted[source] = state.recycled


def watch_pools(metrics: HubMetrics, sources: Iterable[Source]) -> None:
    """Export the pools of `sources` with the hub's metrics (see the module's docstring)."""
    if multiprocess_dir() is None:
        metrics.registry.register(SourcePools(sources))
        return
    write_periodically(_SharedFiles(sources).write, name="simpul-pool-gauges")
