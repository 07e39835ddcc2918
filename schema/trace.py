"""The source trace: calls, items and time per source and operation, per request.

It is how batching is verified from outside: a response carries it as
`extensions.sources` (for operators, or always when the setting is on).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(slots=True)
class _Tally:
    calls: int = 0
    items: int = 0
    seconds: float = 0.0


class Measurement:
    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items = 0


class SourceTrace:
    __slots__ = ("_tallies",)

    def __init__(self) -> None:
        self._tallies: dict[tuple[str, str], _Tally] = {}

    @contextmanager
    def measure(self, source: str, operation: str) -> Iterator[Measurement]:
        measurement = Measurement()
        started = time.perf_counter()
        try:
            yield measurement
        finally:
            tally = self._tallies.setdefault((source, operation), _Tally())
            tally.calls += 1
            tally.items += measurement.items
            tally.seconds += time.perf_counter() - started

    def calls(self, source: str | None = None) -> int:
        return sum(t.calls for (s, _), t in self._tallies.items() if source in (None, s))

    def as_list(self) -> list[dict[str, object]]:
        return [
            {
                "source": source,
                "operation": operation,
                "calls": tally.calls,
                "items": tally.items,
                "ms": round(tally.seconds * 1000, 2),
            }
            for (source, operation), tally in sorted(self._tallies.items())
        ]
