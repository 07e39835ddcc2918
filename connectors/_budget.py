"""How long the current call to a source may still take.

The guard opens `call_budget(seconds)` around each attempt; a backend that can bound
its own I/O (the HTTP client's connect/read/write/pool timeouts) reads `remaining()`
and stops by itself, so that the guard's outer `asyncio.timeout` is only a backstop and
never has to cancel a request in the middle of the HTTP pool's bookkeeping.
Nested budgets only shrink: an inner call never outlives the outer one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("simpul_call_deadline", default=None)


@contextmanager
def call_budget(seconds: float) -> Iterator[None]:
    ends = asyncio.get_running_loop().time() + seconds
    outer = _deadline.get()
    token = _deadline.set(ends if outer is None else min(outer, ends))
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining(default: float) -> float:
    """Seconds left in the current budget, at most `default` (never below 1 ms)."""
    ends = _deadline.get()
    if ends is None:
        return default
    return max(0.001, min(default, ends - asyncio.get_running_loop().time()))
