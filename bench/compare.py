"""Runs of `hub bench --saturate` with different `--workers`, side by side.

    python -m bench.compare RESULTS_1.json RESULTS_2.json [...]   (the fewest workers first)

Each run's throughput at saturation against the model's ideal for it (bench.scaling),
then the measured scaling ratio against the ideal one: what adding workers can give on
this machine once the other processes of the run have taken their CPU.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def compare(runs: Sequence[Mapping[str, Any]]) -> list[str]:
    """Lines comparing the saturation figures of runs with different worker counts."""
    figures: list[Mapping[str, Any]] = []
    for run in runs:
        if not run.get("saturation"):
            raise ValueError("every results file must come from `hub bench --saturate`")
        figures.append(run["saturation"])
    lines = [f"{'workers':>7} {'rps':>8} {'ideal':>8} {'reached':>8}  {'hub ms':>7} {'others ms':>9}  bound"]
    for f in figures:
        at = f["at"]
        others = sum(ms for role, ms in at["cpu_ms_per_request"].items() if role != "hub")
        lines.append(f"{f['workers']:>7} {at['rps']:>8.1f} {at['ideal_rps'] or 0:>8.1f} {at['efficiency'] or 0:>8.0%}  "
                     f"{at['cpu_ms_per_request']['hub']:>7.2f} {others:>9.2f}  {at['ideal_bound']}")
    base = figures[0]
    for f in figures[1:]:
        measured = f["at"]["rps"] / base["at"]["rps"] if base["at"]["rps"] else 0.0
        ideal = (f["at"]["ideal_rps"] / base["at"]["ideal_rps"]
                 if f["at"]["ideal_rps"] and base["at"]["ideal_rps"] else 0.0)
        lines.append(f"{base['workers']} -> {f['workers']} workers: throughput x{measured:.2f} measured, "
                     f"x{ideal:.2f} the model's ideal on this machine (x{f['workers'] / base['workers']:.2f} "
                     "with a free core per worker)")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare",
                                     description="compare `hub bench --saturate` runs with different --workers")
    parser.add_argument("results", nargs="+", type=Path, help="results files (--json), the fewest workers first")
    args = parser.parse_args(argv)
    try:
        runs = [json.loads(path.read_text()) for path in args.results]
        print("\n".join(compare(runs)))
    except (OSError, ValueError, KeyError) as exc:
        print(f"bench.compare: [BAD_RESULTS] {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
