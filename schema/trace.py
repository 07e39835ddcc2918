"""The source trace: calls, items and time per source and operation, per request.

It is how batching is verified from outside: a response carries it as
`extensions.sources` (for operators, or always when the setting is on), with
`extensions.sourceWaitMs`: the wall time during which at least one source call of the
request was in flight (parallel calls counted once), so that the rest of the request's
time is the hub's own.

`items` counts only what the caller was shown: how many records a source returned
before the policy removed some would tell a caller about records it may not see (a
family's size, a citizen's confidential complaint). A call hands its records to
`Measurement.fetched`; each time the policy lets one of them through
(`SourceTrace.shown`), its operation counts one item. Public reference data, which no
policy shapes, is counted directly (`Measurement.items`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from connectors.resilience import observe_stale


@dataclass(slots=True)
class _Tally:
    calls: int = 0
    items: int = 0
    seconds: float = 0.0
    stale: bool = False  # some answer came from the stale cache of a down source


class Measurement:
    __slots__ = ("_origins", "_tally", "items", "stale")

    def __init__(self, tally: _Tally, origins: dict[int, tuple[object, _Tally]]) -> None:
        self.items = 0  # public records shown as they are (no policy shapes them)
        self.stale = False
        self._tally = tally
        self._origins = origins

    def fetched(self, records: Iterable[object]) -> None:
        """Records this call returned: each counts as an item when the caller is shown it."""
        origins, tally = self._origins, self._tally
        for record in records:
            origins.setdefault(id(record), (record, tally))


class SourceTrace:
    __slots__ = ("_open", "_open_since", "_origins", "_tallies", "_waited")

    def __init__(self) -> None:
        self._tallies: dict[tuple[str, str], _Tally] = {}
        # id of a fetched record -> (the record, kept so that the id stays its own; the
        # tally of the operation that fetched it first)
        self._origins: dict[int, tuple[object, _Tally]] = {}
        self._open = 0  # source calls in flight
        self._open_since = 0.0  # when the calls in flight began to be
        self._waited = 0.0  # seconds with a call in flight, before `_open_since`

    @contextmanager
    def measure(self, source: str, operation: str) -> Iterator[Measurement]:
        tally = self._tallies.setdefault((source, operation), _Tally())
        measurement = Measurement(tally, self._origins)
        started = time.perf_counter()
        if not self._open:
            self._open_since = started
        self._open += 1
        try:
            with observe_stale() as observed:
                yield measurement
        finally:
            ended = time.perf_counter()
            self._open -= 1
            if not self._open:
                self._waited += ended - self._open_since
            tally.calls += 1
            tally.items += measurement.items
            tally.seconds += ended - started
            tally.stale = tally.stale or measurement.stale or observed.stale

    def shown(self, record: object) -> None:
        """The policy let `record` through to the caller: its operation counts an item."""
        origin = self._origins.get(id(record))
        if origin is not None and origin[0] is record:
            origin[1].items += 1

    def release(self) -> None:
        """Forget the records (the response is made; the tallies stay)."""
        self._origins = {}

    def wait_ms(self) -> float:
        """Milliseconds during which at least one source call was in flight (the union
        of the calls' intervals: calls made in parallel count once), calls still in
        flight up to now."""
        waited = self._waited
        if self._open:
            waited += time.perf_counter() - self._open_since
        return round(waited * 1000, 2)

    def calls(self, source: str | None = None) -> int:
        return sum(t.calls for (s, _), t in self._tallies.items() if source in (None, s))

    def stale(self) -> list[dict[str, str]]:
        """The source operations answered from the stale cache in this request."""
        return [
            {"source": source, "operation": operation}
            for (source, operation), tally in sorted(self._tallies.items())
            if tally.stale
        ]

    def as_list(self) -> list[dict[str, object]]:
        return [
            {
                "source": source,
                "operation": operation,
                "calls": tally.calls,
                "items": tally.items,
                "ms": round(tally.seconds * 1000, 2),
                **({"stale": True} if tally.stale else {}),
            }
            for (source, operation), tally in sorted(self._tallies.items())
        ]
