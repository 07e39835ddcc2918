"""How a caller learns that an answer came from the stale cache.

The caller opens `observe_stale()` around its call; a guarded source that serves a
stale answer calls `note_stale()`, which marks every observer open in the current
context (tasks started inside inherit it). Nothing is recorded when nobody observes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar


class StaleObservation:
    __slots__ = ("operations",)

    def __init__(self) -> None:
        self.operations: list[tuple[str, str]] = []

    @property
    def stale(self) -> bool:
        return bool(self.operations)


_observer: ContextVar[StaleObservation | None] = ContextVar("simpul_stale_observer", default=None)


@contextmanager
def observe_stale() -> Iterator[StaleObservation]:
    observation = StaleObservation()
    token = _observer.set(observation)
    try:
        yield observation
    finally:
        _observer.reset(token)


def note_stale(source: str, operation: str) -> None:
    observation = _observer.get()
    if observation is not None:
        observation.operations.append((source, operation))
