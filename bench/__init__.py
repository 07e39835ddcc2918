"""The benchmarks: tools that measure the hub, not part of it (`pip install 'simpul[bench]'`).

    hub bench [--residents 300000] [--concurrency 8] [--duration 20] [--warmup 3]
              [--direct] [--check-batching] [--json FILE] [--operations a,b]
              [--workers N --store-url URL] [--saturate]
    python -m bench.compare A.json B.json    `--saturate` runs with different --workers, side by side
    python -m bench.ledger --url URL         the access ledger's insert and verify rates
    python -m bench.authz_cost               what policy and ledger cost one query
    python -m bench.metrics_view DATA_DIR    the metrics view on a large sample
    python -m bench.adversarial              refusing worst-case documents, /healthz meanwhile

`hub bench` finds this package lazily (`bench.cli`); nothing in the product imports it
(an import-linter contract in `pyproject.toml`). See `bench.run` for the steps of a run
and `bench.operations` for the mix; `docs/performance.md` for what was measured.
"""

from __future__ import annotations

from bench.operations import Operation, default_mix
from bench.options import BenchError, BenchOptions
from bench.run import main, run_bench

__all__ = ["BenchError", "BenchOptions", "Operation", "default_mix", "main", "run_bench"]
