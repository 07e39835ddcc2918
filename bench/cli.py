"""`hub bench`'s arguments: the hub's CLI hands everything after `bench` to `main`."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from bench.options import CLIENTS, BenchOptions
from bench.run import main as run_main
from hub.settings import load_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hub bench", description="measure the hub against the sample sources at a given scale"
    )
    parser.add_argument("--config", type=Path, help="TOML file for the region file and default data directory")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="sample data directory (default: <hub data dir>/bench-<residents>)")
    parser.add_argument("--residents", type=int, default=300_000)
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured per phase (default 20)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds run first, not measured (default 3)")
    parser.add_argument("--direct", action="store_true", help="also run the same fetches straight against the sources")
    parser.add_argument("--rounds", type=int, default=None,
                        help="with --direct: hub and direct phases alternate this many times "
                             "(default: one round per 3 s of --duration, at least 3)")
    parser.add_argument("--client", default=CLIENTS[0],  # checked by BenchOptions (BAD_ARGUMENT)
                        help="the load generator's HTTP client: http11 (default, the leanest), aiohttp or httpx")
    parser.add_argument("--check-batching", action="store_true", help="exit 1 if an operation exceeds its depth")
    parser.add_argument("--json", type=Path, default=None,
                        help="results file (default bench-results-<residents>.json)")
    parser.add_argument("--operations", default=None,
                        help="comma-separated operation names (default: the whole mix)")
    parser.add_argument("--hub-setting", action="append", default=[], metavar="KEY=VALUE",
                        help="a TOML `key = value` line for the hub's configuration (repeatable)")
    parser.add_argument("--workers", type=int, default=None,
                        help="run the hub as `hub serve --workers N` and report each worker's CPU and RSS "
                             "(more than one needs --store-url on PostgreSQL)")
    parser.add_argument("--store-url", default=None,
                        help="the hub store's URL (default: a fresh SQLite file per run)")
    parser.add_argument("--saturate", action="store_true",
                        help="raise the clients 1, 2, 4, ... up to --concurrency until throughput grows less than 5%%; "
                             "report throughput at saturation, CPU per request by process (hub, sources, the store's "
                             "PostgreSQL, the load generator) and the model's ideal (docs/performance.md)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser


def main(argv: Sequence[str]) -> int:
    """Run `hub bench ARGV`; the exit code of `bench.run.main` (a bad configuration file
    raises the hub's `ConfigError`, which the hub's CLI reports)."""
    args = build_parser().parse_args(argv)
    base = load_settings(args.config)
    options = BenchOptions(
        residents=args.residents, data_dir=args.data_dir, concurrency=args.concurrency,
        duration=args.duration, warmup=args.warmup, direct=args.direct, check_batching=args.check_batching,
        json_path=args.json, operations=tuple(n for n in (args.operations or "").split(",") if n),
        hub_settings=tuple(args.hub_setting), progress=not args.quiet, rounds=args.rounds, client=args.client,
        workers=args.workers, store_url=args.store_url, saturate=args.saturate,
    )
    return run_main(options, hub_data_dir=base.data_dir, region_file=base.resolved_region_file)
