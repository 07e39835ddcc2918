"""The garbage collector of a long-running server process.

A full collection walks every tracked object that is not frozen. In a hub that is the
sources' stale-answer caches (up to `cache_size` records per source, each record with
its status history and requirements) plus whatever requests are in flight; with
CPython's default thresholds (700, 10, 10) a large listing, whose objects get promoted
while it runs, sets one off every few requests, and the requests it lands on wait for
it. (What that cost when it was measured: docs/performance.md, "Figures that code
comments once quoted".)

`settle_heap` runs once start-up is done: everything alive then (modules, schemas,
policy) is frozen out of the collector's sight, and the thresholds become `thresholds`:
young collections rarer (a request's objects mostly die by reference counting before
one runs) and full collections rare (cyclic garbage that reaches the oldest generation
waits longer; a request's cycles are short-lived and are collected young).
"""

from __future__ import annotations

import gc


def settle_heap(thresholds: tuple[int, int, int]) -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
