"""What each micro-optimisation saves on the operations users run: paired A/B blocks in
one process, CPU time per request.

    python -m bench.micro_ab [--residents 5000] [--blocks 30] [--requests 8] [--only NAME ...]

Starts the sample sources (generated here, in a temporary directory) and runs the hub
in-process (its app over httpx's ASGI transport, the store a SQLite file as in the
demo). For each candidate, each block runs every operation `--requests` times with the
product's code (plain) and the same with the optimisation installed (`bench.removed`),
in random order, and measures CPU milliseconds per request: the event loop's thread
(`time.thread_time`) and the whole process (`time.process_time`, the ledger's thread
included; the sources are other processes). Wall-clock times are not used: on a shared
machine they move more than these savings. Prints, per candidate and operation, the
median saving (plain minus optimised) over the blocks, its interquartile range, and the
saving as a share of the operation's p50 in the README's Speed table.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench import removed
from bench.direct import DirectSources
from bench.operations import Operation, default_mix
from bench.run import METRICS_PROBE
from bench.samples import Tokens, sample_keys
from bench.stack import prepare_data, write_bench_config
from hub import app as hub_app
from hub.demo import start_demo_sources
from hub.settings import load_settings

#: the README Speed table's hub p50 at 300,000 residents (ms), what a saving is set against
P50_MS = {"citizen_by_nik": 14.3, "kelurahan_page": 49.2, "applications_100": 57.4, "track_application": 7.8}


def _engine_ledger(writers: list[Any]) -> Callable[[], Callable[[], None]]:
    """The ledger's commits through the async engine instead of the SQLite thread."""
    def install() -> Callable[[], None]:
        writer = writers[0]
        appender, writer._appender = writer._appender, None

        def restore() -> None:
            writer._appender = appender

        return restore
    return install


#: name -> (install, inverted): `install` puts the optimised version in place, or, when
#: `inverted` (an optimisation the product kept), the plain one
Candidates = dict[str, tuple[Callable[[], Callable[[], None]], bool]]


def candidates(writers: list[Any]) -> Candidates:
    return {
        "first_attempt_outside_tenacity": (removed.install_first_attempt_outside_tenacity, False),
        "label_child_cache": (removed.install_label_child_cache, False),
        "positional_drafts": (removed.install_positional_drafts, False),
        "mutable_records": (removed.install_frozen_records, True),
        "run_binding_insert": (removed.install_full_rows_only, True),
        "sqlite_thread_ledger": (_engine_ledger(writers), True),
    }


async def _requests(client: httpx.AsyncClient, operation: Operation, picks: list[Any]) -> None:
    for pick in picks:
        response = await client.post("/graphql", json={"query": operation.query, "variables": pick.variables},
                                     headers=pick.headers)
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"{operation.name}: {body['errors'][:1]}")


async def _metrics_refreshed(client: httpx.AsyncClient, tokens: Tokens) -> None:
    """The start-up refresh of the metrics view walks the sources on the event loop."""
    headers = {"Authorization": f"Bearer {tokens.of('analyst')}"}
    for _ in range(600):
        data = (await client.post("/graphql", json={"query": METRICS_PROBE}, headers=headers)).json().get("data")
        if ((data or {}).get("serviceMetrics") or {}).get("asOf"):
            return
        await asyncio.sleep(0.5)
    raise RuntimeError("the metrics view was not refreshed within 300 s")


async def _block(client: httpx.AsyncClient, operation: Operation, picks: list[Any]) -> tuple[float, float]:
    thread, process = time.thread_time(), time.process_time()
    await _requests(client, operation, picks)
    count = len(picks)
    return (time.thread_time() - thread) * 1000 / count, (time.process_time() - process) * 1000 / count


async def measure(args: argparse.Namespace, data_dir: Path) -> None:
    prepare_data(data_dir, residents=args.residents, region_file=load_settings(None).resolved_region_file)
    stack = start_demo_sources(data_dir)
    try:
        # the view's refresh once, at start-up (waited for below), not during the blocks;
        # the heap settled after start-up as in production (hub.heap)
        settings = load_settings(write_bench_config(stack), metrics_refresh_seconds=0, freeze_heap_after_start=True)
        direct = DirectSources.build(settings)
        try:
            samples = await sample_keys(direct, seed=7)
        finally:
            await direct.aclose()
        tokens = Tokens(settings)
        writers: list[Any] = []
        made = hub_app.LedgerWriter

        def recording(*a: Any, **kw: Any) -> Any:
            writers.append(made(*a, **kw))
            return writers[-1]

        hub_app.LedgerWriter = recording  # type: ignore[misc,assignment]
        try:
            app = hub_app.create_app(settings)
        finally:
            hub_app.LedgerWriter = made  # type: ignore[misc]
        operations = [op for op in default_mix() if op.name in P50_MS]
        chosen = {name: pair for name, pair in candidates(writers).items()
                  if not args.only or any(name.startswith(o) for o in args.only)}
        rng = random.Random(11)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hub", timeout=120) as client:
                await _metrics_refreshed(client, tokens)
                for operation in operations:  # warm-up: schemas, plans, caches
                    await _requests(client, operation, [operation.pick(samples, tokens, rng) for _ in range(5)])
                for name, (install, inverted) in chosen.items():
                    _report(name, await _candidate(client, operations, install, inverted, samples, tokens, rng, args))
    finally:
        stack.stop()


async def _candidate(client: httpx.AsyncClient, operations: list[Operation], install: Callable[[], Callable[[], None]],
                     inverted: bool, samples: Any, tokens: Tokens, rng: random.Random,
                     args: argparse.Namespace) -> dict[str, list[tuple[float, float, float]]]:
    """Per operation, per block: (plain thread ms, saving on the thread, saving in the process)."""
    savings: dict[str, list[tuple[float, float, float]]] = {op.name: [] for op in operations}
    for _ in range(args.blocks):
        for operation in operations:
            picks = [operation.pick(samples, tokens, rng) for _ in range(args.requests)]
            figures: dict[bool, tuple[float, float]] = {}
            try:
                for optimised in rng.sample([False, True], 2):
                    restore = install() if optimised != inverted else None
                    try:
                        figures[optimised] = await _block(client, operation, picks)
                    finally:
                        if restore is not None:
                            restore()
            except RuntimeError as exc:  # a source too slow on a loaded machine: drop the pair
                print(f"  block dropped: {exc}"[:200], flush=True)
                continue
            plain, fast = figures[False], figures[True]
            savings[operation.name].append((plain[0], plain[0] - fast[0], plain[1] - fast[1]))
    return savings


def _report(name: str, savings: dict[str, list[tuple[float, float, float]]]) -> None:
    print(f"\n{name}")
    print(f"  {'operation':18s} {'plain thread ms':>15s} {'saving thread ms (IQR)':>28s} "
          f"{'saving process ms (IQR)':>28s} {'% of p50':>9s}")
    for operation, rows in savings.items():
        plain = statistics.median(r[0] for r in rows)
        thread = _spread([r[1] for r in rows])
        process = _spread([r[2] for r in rows])
        share = 100 * process[0] / P50_MS[operation]
        print(f"  {operation:18s} {plain:15.3f} {thread[0]:+9.3f} ({thread[1]:+.3f}..{thread[2]:+.3f}) "
              f"{process[0]:+9.3f} ({process[1]:+.3f}..{process[2]:+.3f}) {share:+8.2f}%")


def _spread(values: list[float]) -> tuple[float, float, float]:
    q1, median, q3 = statistics.quantiles(values, n=4)
    return median, q1, q3


# -- each code path alone -------------------------------------------------------------

#: per request of each operation: source calls; records (ledger entries, and as many
#: drafts and shaped records; counted in the hub's store: 1, ~181, ~97 entries); metric-label
#: look-ups (two for the HTTP request, four per source tally, one per error code and action)
UNITS = {
    "citizen_by_nik": {"calls": 3, "entries": 1, "labels": 15},
    "kelurahan_page": {"calls": 4, "entries": 181, "labels": 19},
    "applications_100": {"calls": 2, "entries": 97, "labels": 11},
    "track_application": {"calls": 1, "entries": 0, "labels": 6},
}


def _per_unit(run: Callable[[], object], install: Callable[[], Callable[[], None]], inverted: bool,
              repeat: int) -> tuple[float, float]:
    """µs per call of `run`: plain, then optimised (min of 7 each)."""
    def best() -> float:
        times = []
        for _ in range(7):
            started = time.thread_time()
            for _ in range(repeat):
                run()
            times.append((time.thread_time() - started) / repeat * 1e6)
        return min(times)
    product = best()
    restore = install()
    try:
        installed = best()
    finally:
        restore()
    return (installed, product) if inverted else (product, installed)


def isolated() -> None:
    """Each optimised code path alone, in µs per unit, and the most it could save per
    request of each operation (units: `UNITS`) as a share of the operation's p50."""
    import sqlite3

    from prometheus_client import CollectorRegistry, Counter
    from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
    from sqlalchemy.schema import CreateTable

    from auth.ledger import GENESIS_HASH, LedgerEntry, model, sqlite_thread
    from auth.ledger.store import chain, check_drafts, utc_now
    from auth.ledger.tables import ledger_entries
    from auth.ledger.testing import sample_draft
    from auth.principal import Principal
    from connectors.resilience import Guard, ResiliencePolicy
    from schema import context
    from schema.access import Shaped
    from schema.ledger_writes import LedgerWrites

    loop = asyncio.new_event_loop()
    guard = Guard("licensing", ResiliencePolicy())

    async def answer() -> int:
        return 1

    async def reads() -> None:
        for _ in range(100):
            await guard.read("op", answer)

    counter = Counter("c", "c", ["source", "operation"], registry=CollectorRegistry())
    principal = Principal(subject="s", roles=frozenset({"population_officer"}))
    writes = LedgerWrites()
    writes.describe("{ x }", None)

    class Noted:
        fields, masked, action, detail = frozenset({"nik", "name"}), frozenset({"nik"}), "read", None

    accessed = {("Citizen", str(1471080101000000 + i)): Noted() for i in range(100)}
    keys = list(accessed)
    drafts = check_drafts([sample_draft(record_key=str(1471080101000000 + i), request_id="r") for i in range(100)])
    entries = chain(drafts, head_seq=0, head_hash=GENESIS_HASH, now=utc_now())
    connection = sqlite3.connect(":memory:")
    connection.execute(str(CreateTable(ledger_entries).compile(dialect=sqlite_dialect())))
    sizes = sqlite_thread.InsertSizes.of(connection)

    def insert() -> None:
        sqlite_thread._insert_entries(connection, entries, sizes)
        connection.execute("DELETE FROM ledger_entries")

    def construct() -> None:  # one draft, one entry, one shaped record
        model.LedgerDraft(request_id="r", subject="s", roles=(), purpose=None, document_hash="h",
                          record_type="Citizen", record_key="k", fields=())
        LedgerEntry(**{name: None for name in model.ENTRY_COLUMNS})
        Shaped(values={}, row=None)  # type: ignore[arg-type]

    paths = {  # name: (units per call of run, run, install, inverted, repeat, unit)
        "first_attempt_outside_tenacity": (100, lambda: loop.run_until_complete(reads()),
                                           removed.install_first_attempt_outside_tenacity, False, 20, "calls"),
        "label_child_cache": (1, lambda: counter.labels("licensing", "op"), removed.install_label_child_cache,
                              False, 20000, "labels"),
        "positional_drafts": (100, lambda: context.drafts_of(keys, accessed, principal=principal, request_id="r",
                                                             purpose="p", case=None, writes=writes),
                              removed.install_positional_drafts, False, 200, "entries"),
        "mutable_records": (1, construct, removed.install_frozen_records, True, 20000, "entries"),
        "run_binding_insert": (100, insert, removed.install_full_rows_only, True, 50, "entries"),
    }
    print(f"{'optimisation':32s} {'plain µs':>9s} {'optimised µs':>12s}  per unit; most saved per request, % of p50")
    for name, (per, run, install, inverted, repeat, unit) in paths.items():
        plain, fast = _per_unit(run, install, inverted, repeat)
        saved = (plain - fast) / per
        shares = ", ".join(f"{op} {UNITS[op][unit] * saved / 1000:.3f} ms {100 * UNITS[op][unit] * saved / 1000 / p50:.2f}%"
                           for op, p50 in P50_MS.items())
        print(f"{name:32s} {plain / per:9.3f} {fast / per:12.3f}  ({unit}) {shares}")
    loop.close()
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=5000)
    parser.add_argument("--blocks", type=int, default=30)
    parser.add_argument("--requests", type=int, default=8, help="requests per operation per block and side")
    parser.add_argument("--only", nargs="*", default=[], help="candidates whose names start with these")
    parser.add_argument("--isolated", action="store_true", help="each code path alone, no hub (see `isolated`)")
    args = parser.parse_args()
    if args.isolated:
        isolated()
        return
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(measure(args, Path(tmp)))


if __name__ == "__main__":
    main()
