"""WAL checkpoints of the ledger's SQLite file, off the writer's path.

SQLite checkpoints from the connection whose commit took the write-ahead log past
`wal_autocheckpoint` pages (1,000 by default): inside that COMMIT it copies the log into
the database file and syncs it. A 1,000-entry request writes about that many pages, so
nearly every large ledger commit also paid for a checkpoint (docs/performance.md,
"Figures that code comments once quoted"). The ledger thread therefore leaves checkpoints to
this one: once its commits have added `EVERY_ENTRIES` entries since it last asked, it asks
for a PASSIVE checkpoint, which neither waits for nor blocks writers and readers, on a
connection of its own (each entry dirties one to a few pages, so small requests do not
each cost a checkpoint's syncs). The writer keeps an automatic checkpoint at a larger
size (`BACKSTOP_PAGES`) in case this one falls behind or fails.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

log = logging.getLogger("simpul.ledger")

#: the writer's own automatic checkpoint, should the background one fall behind (~40 MB)
BACKSTOP_PAGES = 10_000
#: entries committed between two requests for a background checkpoint
EVERY_ENTRIES = 200


class BackgroundCheckpoints:
    """PASSIVE checkpoints of one SQLite file on a thread of their own; `request` queues
    one unless one is already waiting to start."""

    def __init__(self, path: Path, *, busy_timeout_ms: int = 30_000) -> None:
        self._path = path
        self._busy_timeout_ms = int(busy_timeout_ms)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-checkpoint")
        self._connection: sqlite3.Connection | None = None  # used on the thread only
        self._lock = threading.Lock()
        self._queued = False
        self._closed = False
        self.runs = 0  # checkpoints run, for tests and metrics
        self.failures = 0

    def request(self) -> None:
        """Ask for a checkpoint soon (thread-safe; cheap when one is already queued)."""
        with self._lock:
            if self._queued or self._closed:
                return
            self._queued = True
        self._executor.submit(self._run)

    def close(self) -> None:
        """Stop after the queued checkpoint (blocking; call it from a worker thread)."""
        with self._lock:
            self._closed = True
        self._executor.submit(self._disconnect)
        self._executor.shutdown(wait=True)

    # -- on the thread ---------------------------------------------------------------

    def _run(self) -> None:
        with self._lock:
            self._queued = False
        try:
            if self._connection is None:
                self._connection = sqlite3.connect(self._path, isolation_level=None, timeout=30)
                self._connection.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
            self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.runs += 1
        except sqlite3.Error as exc:  # the writer's backstop checkpoint still bounds the log
            self.failures += 1
            log.warning("ledger WAL checkpoint failed: %s", exc)
            self._disconnect()

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
