"""What a benchmark run is asked to do, checked before anything starts."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

#: seconds measured per round when --rounds is not given: the machine's speed drifts
#: within seconds (two identical hubs measured ±1.4 ms apart in 3 s blocks), so short
#: alternating rounds pair the hub and the direct run under the same conditions
ROUND_SECONDS = 3.0

#: the load generator's HTTP clients (`bench.client`); the first is the default
CLIENTS = ("http11", "aiohttp", "httpx")


class BenchError(Exception):
    """A benchmark that cannot run; `code` names why (printed as `[CODE] message`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    def __str__(self) -> str:
        return f"[{self.code}] {self.args[0]}"


@dataclass(frozen=True, slots=True)
class BenchOptions:
    residents: int = 300_000
    data_dir: Path | None = None  # the sample data; default <hub data dir>/bench-<residents>
    concurrency: int = 8
    duration: float = 20.0  # seconds measured, per phase
    warmup: float = 3.0  # seconds run first and not measured
    direct: bool = False  # also run the same fetches straight against the sources
    check_batching: bool = False  # exit 1 when an operation makes more calls than its depth
    json_path: Path | None = None  # default bench-results-<residents>.json in the current dir
    operations: tuple[str, ...] = ()  # only these (default: the whole mix)
    hub_settings: tuple[str, ...] = ()  # extra `key = value` TOML lines for the hub
    seed: int = 7
    progress: bool = True
    # with --direct, the hub and direct phases alternate this many times (each round a
    # share of --duration), so that both see the same machine: a background job or a
    # slow minute then weighs on both sides of the ratio, not on one. None: one round per
    # `ROUND_SECONDS` of --duration, at least 3 (see docs/performance.md)
    rounds: int | None = None
    client: str = CLIENTS[0]  # the load generator's HTTP client (see bench.client)
    # run the hub as `hub serve --workers N` (N processes on one port) instead of one
    # bench server process; more than one needs `store_url` on PostgreSQL
    workers: int | None = None
    store_url: str | None = None  # the hub store (default: a fresh SQLite file per run)
    # raise the clients 1, 2, 4, ... up to `concurrency` until throughput stops growing
    # (bench.scaling); each step measures `duration` seconds
    saturate: bool = False

    def checked(self) -> BenchOptions:
        """These options with the round count settled, or `BenchError` (BAD_ARGUMENT)."""
        if self.rounds is None:
            return replace(self, rounds=default_rounds(self.duration)).checked()
        if not 50 <= self.residents <= 5_000_000:
            raise BenchError("BAD_ARGUMENT", "--residents must be between 50 and 5,000,000")
        if not 1 <= self.concurrency <= 512:
            raise BenchError("BAD_ARGUMENT", "--concurrency must be between 1 and 512")
        if not 0.5 <= self.duration <= 3600:
            raise BenchError("BAD_ARGUMENT", "--duration must be between 0.5 and 3600 seconds")
        if not 1 <= self.rounds <= 100 or self.duration / self.rounds < 0.5:
            raise BenchError("BAD_ARGUMENT", "--rounds must be between 1 and 100, each at least 0.5 s of --duration")
        if self.client not in CLIENTS:
            raise BenchError("BAD_ARGUMENT", f"--client must be one of {', '.join(CLIENTS)}")
        if self.workers is not None and not 1 <= self.workers <= 64:
            raise BenchError("BAD_ARGUMENT", "--workers must be between 1 and 64")
        if (self.workers or 1) > 1 and not (self.store_url or "").startswith("postgresql"):
            raise BenchError("BAD_ARGUMENT", f"--workers {self.workers} needs --store-url on PostgreSQL "
                                             "(the SQLite store serves one process)")
        if self.saturate and self.direct:
            raise BenchError("BAD_ARGUMENT", "--saturate measures the hub alone: leave out --direct")
        if not 0 <= self.warmup <= 600:
            raise BenchError("BAD_ARGUMENT", "--warmup must be between 0 and 600 seconds")
        for line in self.hub_settings:
            try:
                tomllib.loads(line)
            except tomllib.TOMLDecodeError as exc:
                raise BenchError(
                    "BAD_ARGUMENT", f"--hub-setting {line!r} is not a TOML `key = value` line ({exc})"
                ) from exc
        return self

    def bench_dir(self, hub_data_dir: Path) -> Path:
        return self.data_dir or hub_data_dir / f"bench-{self.residents}"

    def results_path(self) -> Path:
        return self.json_path or Path(f"bench-results-{self.residents}.json")


def default_rounds(duration: float) -> int:
    """One round per `ROUND_SECONDS` of the measured duration, between 3 and 100 (and
    never shorter than the 0.5 s a round needs)."""
    return max(1, min(100, int(duration / 0.5), max(3, round(duration / ROUND_SECONDS))))
