"""The interpreter's thread switch interval while a hub runs.

The hub's event loop shares the GIL with threads that wait in C: the ledger's SQLite
writer and aiosqlite's connection threads (the population registry on SQLite). Each
time such a thread's C call returns (every SQLite step: one per row fetched), it must
take the GIL back, and while the event loop's thread is busy it waits for the
interpreter's switch interval (5 ms by default) before the busy thread is made to let
go: the convoy effect. A page fetched or a ledger transaction written then stalls for
many intervals behind another request's work. A shorter interval bounds each wait; it
costs a thread switch only when another thread is in fact waiting.

What the shipped 0.5 ms was measured to change, and when: docs/performance.md
("Figures that code comments once quoted").
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def switch_interval(milliseconds: float) -> Iterator[None]:
    """The switch interval set to `milliseconds` until the block ends, then put back."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(milliseconds / 1000)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)
