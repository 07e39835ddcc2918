"""Ledger transactions on SQLite in one hop: a dedicated thread and its own connection.

Through the async engine (aiosqlite), a ledger transaction is six statements, and each
one is a round trip from the event loop to aiosqlite's thread and back, with
SQLAlchemy's per-statement and per-row work around it: about 2.5 ms for a single entry
and 40 µs per entry for a page of 1,000 (`python -m bench.ledger`). Here the whole
transaction (BEGIN IMMEDIATE, read the head, chain, insert, move the head, COMMIT) runs
as one call on a thread that owns a plain `sqlite3` connection, so the event loop waits
once per transaction and the driver's C code does the per-row work.

The rows go in by multi-row INSERTs of up to `ROWS_PER_INSERT` rows, not `executemany`.
Every statement step gives up the GIL and takes it back, and `executemany` steps once
per row: while the event loop's thread is busy (completing the page whose entries these
are, or another request), taking the GIL back waits up to the interpreter's switch
interval, so a 1,000-entry insert took seconds behind a busy thread (`executemany`
5.2 s, 128-row statements 0.1 s; 9 ms each when the other thread is idle).

The rows are exactly what the async engine stores (the tables' column types on SQLite:
times as the chain's fixed ISO text, collections as JSON arrays), and the locking is the
same as `auth.ledger.transactions`: BEGIN IMMEDIATE takes the write lock before the head
is read, so this connection, the engine's connections and other processes keep one chain.
WAL checkpoints run on another thread (`auth.ledger.sqlite_checkpoint`), not in COMMIT.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import orjson
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.ledger.chain import format_time
from auth.ledger.errors import LedgerUnavailable
from auth.ledger.model import ENTRY_COLUMNS, GENESIS_HASH, LedgerDraft, LedgerEntry
from auth.ledger.sqlite_checkpoint import (
    BACKSTOP_PAGES,
    EVERY_ENTRIES,
    BackgroundCheckpoints,
)
from auth.ledger.store import Clock, chain
from auth.ledger.transactions import PAGE_SIZE_PRAGMA

_COLUMNS = ", ".join(f'"{name}"' for name in ENTRY_COLUMNS)
#: the columns SQLite stores as JSON arrays (the tables' column types)
_COLLECTIONS = frozenset({"roles", "fields", "masked_fields"})
#: rows per INSERT statement, a power of two (fewer when SQLite allows fewer variables)
ROWS_PER_INSERT = 128
_READ_HEAD = "SELECT seq, entry_hash FROM ledger_head WHERE id = 1"
_GENESIS = "INSERT INTO ledger_head (id, seq, entry_hash) VALUES (1, 0, ?) ON CONFLICT DO NOTHING"
_MOVE_HEAD = "UPDATE ledger_head SET seq = ?, entry_hash = ? WHERE id = 1"


def sqlite_file(engine: AsyncEngine) -> Path | None:
    """The database file behind a SQLite engine; None for other databases, in-memory
    databases and URI file names (those keep the engine's own path)."""
    url = make_url(str(engine.url))
    if url.get_backend_name() != "sqlite" or url.query.get("uri"):
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


@cache
def _insert(rows: int) -> str:
    """An INSERT of `rows` entries, every column of every row bound."""
    row = f"({', '.join('?' * len(ENTRY_COLUMNS))})"
    return f"INSERT INTO ledger_entries ({_COLUMNS}) VALUES {', '.join([row] * rows)}"


def rows_per_insert(connection: sqlite3.Connection) -> int:
    """The most rows one INSERT may carry: a power of two up to `ROWS_PER_INSERT` within
    SQLite's limit on variables (999 before SQLite 3.32)."""
    fits = connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(ENTRY_COLUMNS)
    if fits < 1:
        raise sqlite3.OperationalError("SQLite allows fewer variables per statement than a ledger row needs")
    largest = 1
    while largest * 2 <= min(fits, ROWS_PER_INSERT):
        largest *= 2
    return largest


def _insert_entries(connection: sqlite3.Connection, entries: Sequence[LedgerEntry], largest: int) -> None:
    """Insert the entries in statements of `largest` rows, then halving sizes for the
    rest: at most log2(largest) + 1 distinct statements, which the connection's
    statement cache keeps."""
    done, size, total = 0, largest, len(entries)
    while done < total:
        while size > total - done:
            size //= 2
        rows = entries[done:done + size]
        connection.execute(_insert(size), [value for entry in rows for value in _stored(entry)])
        done += size


def _stored(entry: LedgerEntry) -> list[object]:
    """An entry's values as SQLite stores them (`ENTRY_COLUMNS` order): the time as the
    chain's text, collections as JSON arrays."""
    return [
        format_time(entry.time) if name == "time"
        else orjson.dumps(list(getattr(entry, name))).decode() if name in _COLLECTIONS
        else getattr(entry, name)
        for name in ENTRY_COLUMNS
    ]


class SqliteThreadAppender:
    """Appends checked drafts to a SQLite ledger from one dedicated thread.

    Callers must not overlap `write` calls of one appender (the `LedgerWriter` holds a
    lock around them); other appenders, engines and processes may write concurrently.
    """

    def __init__(self, path: Path, *, busy_timeout_ms: int = 30_000, synchronous: str = "FULL") -> None:
        self._path = path
        self._busy_timeout_ms = int(busy_timeout_ms)
        self._synchronous = synchronous.upper()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-sqlite")
        self._connection: sqlite3.Connection | None = None  # opened and used on the thread only
        self._rows_per_insert = 1  # set when the connection opens
        self.checkpoints = BackgroundCheckpoints(path, busy_timeout_ms=busy_timeout_ms)
        self._uncheckpointed = 0  # entries committed since a checkpoint was last asked for
        self.transactions = 0  # committed transactions, for tests and metrics

    def submit(self, drafts: Sequence[LedgerDraft], clock: Clock) -> asyncio.Future[list[LedgerEntry]]:
        """Hand the transaction to the thread now; the future ends with the entries or
        `LedgerUnavailable`."""
        return asyncio.get_running_loop().run_in_executor(self._executor, self._write_or_refuse, drafts, clock)

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=True)
        await loop.run_in_executor(None, self.checkpoints.close)

    # -- on the thread ---------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=True, timeout=30)
            connection.execute(PAGE_SIZE_PRAGMA)  # a new file only; before WAL writes its first page
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
            connection.execute(f"PRAGMA synchronous={self._synchronous}")
            # 32 MiB of page cache (SQLite's default is 2 MiB): the entries' indexes (by
            # record key, subject, time) stay in memory as the ledger grows, which made a
            # 1,000-entry insert ~30% faster at 100,000 entries
            connection.execute("PRAGMA cache_size=-32768")
            connection.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")  # see sqlite_checkpoint
            self._rows_per_insert = rows_per_insert(connection)
            self._connection = connection
        return self._connection

    def _write_or_refuse(self, drafts: Sequence[LedgerDraft], clock: Clock) -> list[LedgerEntry]:
        try:
            return self._write(drafts, clock)
        except sqlite3.Error as exc:
            raise LedgerUnavailable(f"the access ledger could not be written: {exc.__class__.__name__}") from exc

    def _write(self, drafts: Sequence[LedgerDraft], clock: Clock) -> list[LedgerEntry]:
        connection = self._connect()
        connection.execute("BEGIN IMMEDIATE")
        try:
            head = connection.execute(_READ_HEAD).fetchone()
            if head is None:
                connection.execute(_GENESIS, (GENESIS_HASH,))
                head = (0, GENESIS_HASH)
            chained = chain(drafts, head_seq=int(head[0]), head_hash=str(head[1]), now=clock())
            _insert_entries(connection, chained, self._rows_per_insert)
            connection.execute(_MOVE_HEAD, (chained[-1].seq, chained[-1].entry_hash))
            connection.execute("COMMIT")
        except BaseException:
            self._abandon(connection)
            raise
        self.transactions += 1
        self._uncheckpointed += len(chained)
        if self._uncheckpointed >= EVERY_ENTRIES:
            self._uncheckpointed = 0
            self.checkpoints.request()
        return chained

    def _abandon(self, connection: sqlite3.Connection) -> None:
        """Roll back a failed transaction; a connection that cannot is replaced."""
        try:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
        except sqlite3.Error:
            connection.close()
            self._connection = None

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
