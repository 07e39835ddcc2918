"""Recent answers of a source, kept to be served (marked stale) when it fails.

Keyed by operation and arguments (batch look-ups per key, so that any later batch
containing the same keys can be served). Bounded by the number of records held (a
page of 1,000 records weighs 1,000, one record 1), so that memory stays bounded
whatever the pages' sizes: least recently stored entries go first, and entries older
than the TTL are dropped as new ones arrive and are never served.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Any

_KEEPING: contextvars.ContextVar[bool] = contextvars.ContextVar("simpul_keep_answers", default=True)


@contextlib.contextmanager
def bulk_reads() -> Iterator[None]:
    """Reads made inside (in this task) are not kept for stale answers: a background job
    walking a whole source (the metrics refresh) would otherwise fill the cache with
    pages no caller asks for, and keep ~200,000 objects alive for the garbage collector
    to walk on every full collection."""
    token = _KEEPING.set(False)
    try:
        yield
    finally:
        _KEEPING.reset(token)


class RecentAnswers:
    def __init__(
        self, *, ttl: float, max_entries: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries  # a budget in records, see the module docstring
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, Any, int]] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.ttl > 0 and self.max_entries > 0

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, key: Hashable, value: Any) -> None:
        if not self.enabled or not _KEEPING.get() or not _hashable(key):
            return
        weight = _weight(value)
        if weight > self.max_entries:
            return
        now = self._clock()
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._held -= old[2]
            self._entries[key] = (now, value, weight)
            self._held += weight
            while self._entries:
                oldest_key, (stored_at, _, oldest_weight) = next(iter(self._entries.items()))
                if self._held <= self.max_entries and now - stored_at <= self.ttl:
                    break
                del self._entries[oldest_key]
                self._held -= oldest_weight

    def get(self, key: Hashable) -> tuple[bool, Any]:
        """(found, value) for an entry younger than the TTL."""
        if not self.enabled or not _hashable(key):
            return False, None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return False, None
            stored_at, value, weight = entry
            if self._clock() - stored_at > self.ttl:
                del self._entries[key]
                self._held -= weight
                return False, None
            return True, value

    @property
    def records_held(self) -> int:
        return self._held


def _weight(value: Any) -> int:
    """How many records an answer holds: a page's items, a batch's records, or 1."""
    items = getattr(value, "items", None)
    if isinstance(items, list):
        return max(1, len(items))
    if isinstance(value, dict):
        return max(1, sum(len(v) if isinstance(v, list) else 1 for v in value.values()))
    if isinstance(value, list | tuple):
        return max(1, len(value))
    return 1


def _hashable(key: Hashable) -> bool:
    try:
        hash(key)
    except TypeError:
        return False
    return True
