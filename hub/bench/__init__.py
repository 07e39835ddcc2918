"""`hub bench`: what the hub costs, measured against the sample sources at a given scale.

    hub bench [--residents 300000] [--concurrency 8] [--duration 20] [--warmup 3]
              [--direct] [--check-batching] [--json FILE] [--operations a,b]

See `hub.bench.run` for the steps of a run and `hub.bench.operations` for the mix.
"""

from __future__ import annotations

from hub.bench.operations import Operation, default_mix
from hub.bench.options import BenchError, BenchOptions
from hub.bench.run import main, run_bench

__all__ = ["BenchError", "BenchOptions", "Operation", "default_mix", "main", "run_bench"]
