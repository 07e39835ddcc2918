"""Recent answers of a source, kept to be served (marked stale) when it fails.

Keyed by operation and arguments (batch look-ups per key, so that any later batch
containing the same keys can be served). Bounded: least recently stored entries go
first; entries older than the TTL are never served.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

class RecentAnswers:
    def __init__(
        self, *, ttl: float, max_entries: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.ttl > 0 and self.max_entries > 0

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, key: Hashable, value: Any) -> None:
        if not self.enabled or not _hashable(key):
            return
        with self._lock:
            self._entries[key] = (self._clock(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def get(self, key: Hashable) -> tuple[bool, Any]:
        """(found, value) for an entry younger than the TTL."""
        if not self.enabled or not _hashable(key):
            return False, None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return False, None
            stored_at, value = entry
            if self._clock() - stored_at > self.ttl:
                del self._entries[key]
                return False, None
            return True, value


def _hashable(key: Hashable) -> bool:
    try:
        hash(key)
    except TypeError:
        return False
    return True
