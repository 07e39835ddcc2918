"""`python -m demo generate --data-dir DIR --residents N --region-file FILE [--seed S]
[--population-url URL]`: build the sample sources' data and print the manifest."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from demo.generator.errors import DemoDataError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m demo",
                                     description="Sample source systems of Simpul.")
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate", help="generate synthetic data for all sources")
    generate.add_argument("--data-dir", type=Path, required=True)
    generate.add_argument("--residents", type=_positive, required=True)
    generate.add_argument("--region-file", type=Path, required=True)
    generate.add_argument("--seed", type=int, default=2026)
    generate.add_argument("--population-url", default=None,
                          help="SQLAlchemy URL for BIODATA_WNI (default: DIR/population.db)")
    generate.add_argument("--progress", choices=("text", "json"), default="text",
                          help="progress on stderr: lines of text, or JSON lines "
                               '({"message": ...} and {"step", "done", "total"}) for a program')
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def _reporters(kind: str) -> dict[str, Any]:
    def emit(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    if kind == "text":
        return {"progress": emit}
    return {
        "progress": lambda message: emit(json.dumps({"message": message})),
        "counter": lambda step, done, total: emit(json.dumps({"step": step, "done": done, "total": total})),
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from demo.build import build_demo_data
    from demo.population import PopulationLoadError

    errors: tuple[type[Exception], ...] = (DemoDataError, PopulationLoadError)
    try:
        from demo.service_common.loading import LoadError

        errors += (LoadError,)
    except ImportError:  # pragma: no cover - the services are optional here
        pass
    try:
        manifest = build_demo_data(
            args.data_dir,
            residents=args.residents,
            region_file=args.region_file,
            seed=args.seed,
            population_url=args.population_url,
            **_reporters(args.progress),
        )
    except errors as exc:
        code = getattr(exc, "code", "DATA_LOAD_FAILED")
        message = str(exc)
        if not message.startswith(f"{code}:"):
            message = f"{code}: {message}"
        print(f"error: {message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: IO_ERROR: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(manifest, indent=2))
    return 0
