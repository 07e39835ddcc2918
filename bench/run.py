"""`hub bench`: one run, from sample data to the report.

1. sample data at the asked scale (generated once per data directory, then reused);
2. the sample sources and the hub in its own process (uvicorn), as in production;
3. keys sampled from the sources, tokens from the development issuer;
4. the persisted variants pushed into the hub's store (as `hub operations push`);
   one request per operation to check it works, then the hub phase under load;
5. with `--direct`, the same fetches straight against the sources (same SQL and HTTP);
6. the table on stdout (with the bytes on the wire per request), everything as JSON,
   and the batching verdict.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.metadata
import importlib.util
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from bench.client import ClientFailure, HubClient, hub_client
from bench.direct import DirectSources
from bench.load import PhaseResult, ProcessMonitor, direct_runner, drive, first_error, hub_runner, merged
from bench.operations import Operation, default_mix, named_only
from bench.options import BenchError, BenchOptions
from bench.persisted import push_persisted
from bench.report import RoundRatios, overhead, overhead_by_round, overhead_interval, phase_summary, table
from bench.samples import Samples, Tokens, sample_keys
from bench.scaling import LOAD_GENERATOR, concurrency_steps, saturated, saturation
from bench.stack import BenchStack, prepare_data, running_stack
from connectors.errors import ConnectorError
from hub.settings import Settings

T = TypeVar("T")

METRICS_WAIT_SECONDS = 300
METRICS_PROBE = "{ serviceMetrics { asOf } }"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def has_root_field(schema_sdl: str, name: str) -> bool:
    return f"  {name}(" in schema_sdl or f"  {name}:" in schema_sdl


def select_operations(names: Sequence[str], *, schema_sdl: str) -> tuple[list[Operation], list[str]]:
    """The mix (or the named part of it), minus operations whose root field the hub
    does not have yet; the notices say what was left out."""
    mix = default_mix() if not names else [*default_mix(), *named_only()]
    known = {op.name for op in [*default_mix(), *named_only()]}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise BenchError("BAD_ARGUMENT", f"unknown operation(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    chosen = [op for op in mix if not names or op.name in names]
    notices = []
    kept = []
    for op in chosen:
        if op.root_field and not has_root_field(schema_sdl, op.root_field):
            notices.append(f"{op.name} skipped: the hub's schema has no `{op.root_field}` yet")
            continue
        kept.append(op)
    if not kept:
        raise BenchError("NOTHING_TO_RUN", "no operation of the mix can run against this hub")
    return kept, notices


def _schema_sdl(settings: Settings) -> str:
    from hub.schemas import load_access, role_sdl

    policy, _ = load_access(settings)
    return role_sdl(policy, None)


async def _wait_for_metrics(client: HubClient, tokens: Tokens) -> str | None:
    """The dashboard reads a view the hub fills at start-up: wait for its first refresh.
    Whatever the mix: that refresh walks both REST sources and writes a year of facts
    (tens of seconds at 1,000,000 residents), and measured meanwhile, every operation
    would share the sources and the hub's CPU with it."""
    headers = {"Authorization": f"Bearer {tokens.of('analyst')}"}
    deadline = time.monotonic() + METRICS_WAIT_SECONDS
    announced = False
    while time.monotonic() < deadline:
        response = await client.post({"query": METRICS_PROBE}, headers)
        data = response.json().get("data") or {}
        if (data.get("serviceMetrics") or {}).get("asOf"):
            return None
        if not announced:
            _say("  waiting for the hub's first metrics refresh ...")
            announced = True
        await asyncio.sleep(0.5)
    return f"the metrics view was not refreshed within {METRICS_WAIT_SECONDS} s; service_metrics reads an empty view"


async def _preflight(client: HubClient, operations: Sequence[Operation], samples: Samples,
                     tokens: Tokens, seed: int) -> None:
    import random

    rng = random.Random(seed)
    for op in operations:
        pick = op.pick(samples, tokens, rng)
        response = await client.post(op.request_body(pick.variables), pick.headers)
        problem = first_error(response)
        if problem is not None:
            raise BenchError("OPERATION_FAILED", f"{op.name} failed on its first request: {problem}")


async def sampled(sources: DirectSources, *, seed: int) -> Samples:
    """The keys the operations pick from; a source that fails meanwhile (a cold disk can
    make a large first page miss its deadline) ends the run with a code, not a traceback."""
    try:
        return await sample_keys(sources, seed=seed)
    except ConnectorError as exc:
        raise BenchError("SOURCE_UNAVAILABLE", f"sampling keys from the sources failed: {exc}") from exc


async def _phases(stack: BenchStack, operations: list[Operation], options: BenchOptions,
                  notices: list[str], *, metrics_view: bool) -> tuple[Samples, PhaseResult, PhaseResult | None, dict[str, Any]]:
    sources = DirectSources.build(stack.settings, with_store=options.direct)
    try:
        _say("Sampling keys from the sources ...")
        samples = await sampled(sources, seed=options.seed)
        if await push_persisted(stack.settings, operations):
            _say("  persisted variants pushed (hub operations push)")
        tokens = Tokens(stack.settings)
        client = hub_client(options.client, stack.url, connections=options.concurrency)
        try:
            try:
                if metrics_view:
                    notice = await _wait_for_metrics(client, tokens)
                    if notice:
                        notices.append(notice)
                await _preflight(client, operations, samples, tokens, options.seed)
            except ClientFailure as exc:
                raise BenchError("HUB_UNREACHABLE", f"the hub at {stack.url} did not answer ({exc.code})") from exc
            workers = {f"hub worker {n}": pid for n, pid in enumerate(stack.worker_pids, 1)}
            hub_pids = {"hub": stack.hub_pid, **workers, **{s.name: s.process.pid for s in stack.sources.services},
                        LOAD_GENERATOR: os.getpid()}
            direct_pids = {"bench (direct)": os.getpid(), **{s.name: s.process.pid for s in stack.sources.services}}
            database = postgres_database(options.store_url)
            if options.saturate:
                steps = await _saturation_steps(
                    client, operations, samples, tokens, options,
                    monitor=lambda: ProcessMonitor(hub_pids, postgres_database=database))
                figures = saturation([(c, phase_summary(operations, phase)) for c, phase in steps],
                                     cores=len(os.sched_getaffinity(0)), workers=options.workers or 1)
                best = next(phase for c, phase in steps if c == figures["at"]["concurrency"])
                return samples, best, None, {**_round_figures([], [], operations), "saturation": figures}
            rounds = (options.rounds or 1) if options.direct else 1
            share = options.duration / rounds
            hub_parts: list[PhaseResult] = []
            direct_parts: list[PhaseResult] = []
            for number in range(rounds):
                # the first round warms up fully; later ones only settle after the switch
                warmup = options.warmup if number == 0 else min(options.warmup, 1.0)
                label = f" (round {number + 1} of {rounds})" if rounds > 1 else ""
                _say(f"Hub phase{label}: {options.concurrency} clients ({options.client}), {warmup:g} s warm-up, {share:g} s measured")
                hub_parts.append(await drive(
                    "hub", operations, hub_runner(client), samples=samples, tokens=tokens,
                    concurrency=options.concurrency, duration=share, warmup=warmup,
                    seed=options.seed + number, monitor=ProcessMonitor(hub_pids, postgres_database=database),
                    progress=options.progress,
                ))
                if options.direct:
                    _say(f"Direct phase{label}: the same fetches through the connectors, no GraphQL, no policy")
                    direct_parts.append(await drive(
                        "direct", operations, direct_runner(sources), samples=samples, tokens=tokens,
                        concurrency=options.concurrency, duration=share, warmup=warmup,
                        seed=options.seed + number, monitor=ProcessMonitor(direct_pids), progress=options.progress,
                    ))
        finally:
            await client.aclose()
        hub = merged("hub", hub_parts)
        direct = merged("direct", direct_parts) if direct_parts else None
        return samples, hub, direct, _round_figures(hub_parts, direct_parts, operations)
    finally:
        await sources.aclose()


async def _saturation_steps(client: HubClient, operations: list[Operation], samples: Samples, tokens: Tokens,
                            options: BenchOptions, *, monitor: Callable[[], ProcessMonitor]) -> list[tuple[int, PhaseResult]]:
    """The hub phase at 1, 2, 4, ... clients until throughput stops growing (bench.scaling)."""
    steps: list[tuple[int, PhaseResult]] = []
    for number, concurrency in enumerate(concurrency_steps(options.concurrency)):
        warmup = options.warmup if number == 0 else min(options.warmup, 1.0)
        _say(f"Saturation step {number + 1}: {concurrency} clients, {warmup:g} s warm-up, {options.duration:g} s measured")
        phase = await drive("hub", operations, hub_runner(client), samples=samples, tokens=tokens,
                            concurrency=concurrency, duration=options.duration, warmup=warmup,
                            seed=options.seed + number, monitor=monitor(), progress=options.progress)
        steps.append((concurrency, phase))
        if saturated([sum(map(len, p.samples.values())) / p.seconds for _, p in steps]):
            break
    return steps


def postgres_database(store_url: str | None) -> str | None:
    """The hub store's database name when it is on PostgreSQL (its backends' CPU is measured)."""
    if not (store_url or "").startswith("postgresql"):
        return None
    from sqlalchemy.engine import make_url

    return make_url(store_url).database  # type: ignore[arg-type]


def _round_figures(hub: list[PhaseResult], direct: list[PhaseResult], operations: list[Operation]) -> dict[str, Any]:
    """What the rounds say about the ratio: each round's own, and the pooled ratio's 95%
    interval over resamplings of the rounds (JSON keys; None without --direct)."""
    if not direct:
        return {"overhead_p50_rounds": None, "overhead_p50_interval": None, "saturation": None}
    rounds: RoundRatios = overhead_by_round(hub, direct, operations)
    return {"overhead_p50_rounds": rounds, "overhead_p50_interval": overhead_interval(hub, direct, operations),
            "saturation": None}


def _run_on_server_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run the load generator and the direct fetches on the event loop the hub's server
    runs on (uvloop where it is installed, as uvicorn picks it): on asyncio's own loop the
    direct fetches were ~1 ms slower for the citizen by NIK (7.1 against 8.2 ms), and the
    ratios flattered the hub."""
    if importlib.util.find_spec("uvloop") is not None:
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)


def _environment() -> dict[str, Any]:
    def version(name: str) -> str | None:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return None

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "server": {
            "asgi": f"uvicorn {version('uvicorn')}",
            "loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
            "http": "httptools" if importlib.util.find_spec("httptools") else "h11",
        },
        "load_generator": {"loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"},
        "strawberry": version("strawberry-graphql"),
    }


def run_bench(options: BenchOptions, *, hub_data_dir: Path, region_file: Path) -> dict[str, Any]:
    """Run the benchmark and return its results (what `--json` writes)."""
    options = options.checked()
    data_dir = options.bench_dir(hub_data_dir)
    started_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    _say(f"Sample data in {data_dir} ({options.residents:,} residents; generated once, then reused)")
    began = time.perf_counter()
    manifest = prepare_data(data_dir, residents=options.residents, region_file=region_file)
    _say(f"  ready in {time.perf_counter() - began:.1f} s: {manifest.get('residents')} residents, "
         f"{manifest.get('applications')} applications, {manifest.get('complaints')} complaints")
    with running_stack(data_dir, manifest=manifest, extra_settings=options.hub_settings,
                       workers=options.workers, store_url=options.store_url) as stack:
        _say(f"Hub at {stack.url} (pid {stack.hub_pid})")
        sdl = _schema_sdl(stack.settings)
        operations, notices = select_operations(options.operations, schema_sdl=sdl)
        for notice in notices:
            _say(f"  note: {notice}")
        samples, hub, direct, round_figures = _run_on_server_loop(
            _phases(stack, operations, options, notices, metrics_view=has_root_field(sdl, "serviceMetrics"))
        )
    phases = {"hub": phase_summary(operations, hub)}
    if direct is not None:
        phases["direct"] = phase_summary(operations, direct)
    verdicts = [f["batching"]["verdict"] for f in phases["hub"]["operations"].values()]
    return {
        "benchmark": "hub bench",
        "started_at": started_at,
        "residents": options.residents,
        "data": {k: manifest.get(k) for k in ("residents", "families", "applications", "complaints", "seed")},
        "data_dir": str(data_dir),
        "options": {
            "concurrency": options.concurrency, "duration": options.duration, "warmup": options.warmup,
            "direct": options.direct, "seed": options.seed, "hub_settings": list(options.hub_settings),
            "rounds": options.rounds if options.direct else 1, "client": options.client,
            "workers": options.workers, "store": (options.store_url or "sqlite").split(":", 1)[0],
            "saturate": options.saturate,
        },
        "environment": _environment(),
        "samples": {"citizens": len(samples.citizen_niks), "applications": len(samples.application_numbers),
                    "kelurahan": len(samples.kelurahan_codes)},
        "operations": {op.name: {"title": op.title, "weight": op.weight, "depth": op.depth} for op in operations},
        "phases": phases,
        "overhead_p50": overhead(phases["hub"], phases["direct"]) if direct is not None else None,
        **round_figures,
        "batching_ok": all(v == "OK" for v in verdicts),
        "notices": notices,
    }


def main(options: BenchOptions, *, hub_data_dir: Path, region_file: Path) -> int:
    """The command: run, print the table, write the JSON; 1 when `--check-batching`
    finds an operation over its depth, 2 when the benchmark cannot run."""
    try:
        results = run_bench(options, hub_data_dir=hub_data_dir, region_file=region_file)
    except BenchError as exc:
        print(f"hub bench: {exc}", file=sys.stderr)
        return 2
    print(table(results), flush=True)
    path = options.results_path()
    try:
        path.write_text(json.dumps(results, indent=2) + "\n")
    except OSError as exc:
        print(f"hub bench: [CANNOT_WRITE_RESULTS] {path}: {exc}", file=sys.stderr)
        return 2
    print(f"results written to {path}", flush=True)
    if options.check_batching and not results["batching_ok"]:
        failed = [n for n, f in results["phases"]["hub"]["operations"].items() if f["batching"]["verdict"] != "OK"]
        print(f"hub bench: [BATCHING] more source calls than the nesting depth in: {', '.join(failed)}",
              file=sys.stderr)
        return 1
    return 0
