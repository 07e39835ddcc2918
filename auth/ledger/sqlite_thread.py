"""Ledger transactions on SQLite in one hop: a dedicated thread and its own connection.

Through the async engine (aiosqlite), a ledger transaction is six statements, and each
one is a round trip from the event loop to aiosqlite's thread and back, with
SQLAlchemy's per-statement and per-row work around it (`python -m bench.ledger`
measures both paths; docs/performance.md has what it measured). Here the whole
transaction (BEGIN IMMEDIATE, read the head, chain, insert, move the head, COMMIT) runs
as one call on a thread that owns a plain `sqlite3` connection, so the event loop waits
once per transaction and the driver's C code does the per-row work.

The rows go in by multi-row INSERTs of up to `ROWS_PER_INSERT` rows, not `executemany`.
Every statement step gives up the GIL and takes it back, and `executemany` steps once
per row: while the event loop's thread is busy (completing the page whose entries these
are, or another request), taking the GIL back waits up to the interpreter's switch
interval, so a 1,000-entry insert by `executemany` took seconds behind a busy thread,
where multi-row statements take a small fraction of that.

A request's entries differ only in `_OWN_COLUMNS` (seq, record key, the two hashes); the
other fifteen columns are the request's. So a run of at least `SHORT_RUN` entries that
share them goes in by statements that bind them once and four values per row (`INSERT
... SELECT` from a `VALUES` list): binding is done holding the GIL, and binding all 19
columns of every row was most of the thread's time under the GIL besides the chain.
Shorter runs, as in a group commit of many one-record requests, go in together as full rows,
so that such a group still takes one or two statements, not one per request.

The rows are exactly what the async engine stores (the tables' column types on SQLite:
times as the chain's fixed ISO text, collections as JSON arrays), and the locking is the
same as `auth.ledger.transactions`: BEGIN IMMEDIATE takes the write lock before the head
is read, so this connection, the engine's connections and other processes keep one chain.
WAL checkpoints run on another thread (`auth.ledger.sqlite_checkpoint`), not in COMMIT.
"""

from __future__ import annotations

import asyncio
import operator
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
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
#: the columns in which the entries of one request differ; the others are bound once
_OWN_COLUMNS = ("seq", "record_key", "prev_hash", "entry_hash")
_RUN_COLUMNS = tuple(c for c in ENTRY_COLUMNS if c not in _OWN_COLUMNS)
_own_values = operator.attrgetter(*_OWN_COLUMNS)
_run_values = operator.attrgetter(*_RUN_COLUMNS)
#: where each column's value sits in a run's stored values (False) or a row's own (True)
_PLACES = tuple((name in _OWN_COLUMNS, (_OWN_COLUMNS if name in _OWN_COLUMNS else _RUN_COLUMNS).index(name))
                for name in ENTRY_COLUMNS)
#: rows per INSERT statement, a power of two (fewer when SQLite allows fewer variables)
ROWS_PER_INSERT = 128
#: the fewest entries sharing their request's values that are inserted as a run
SHORT_RUN = 8
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
def _insert_run(rows: int) -> str:
    """An INSERT of `rows` entries of one run: the run's values as parameters of the
    SELECT list (in column order, so they come first), then each row's own values in a
    VALUES list, whose columns SQLite names column1, column2, ..."""
    select = ", ".join(f"column{index + 1}" if own else "?" for own, index in _PLACES)
    row = f"({', '.join('?' * len(_OWN_COLUMNS))})"
    return f"INSERT INTO ledger_entries ({_COLUMNS}) SELECT {select} FROM (VALUES {', '.join([row] * rows)})"


@cache
def _insert_full(rows: int) -> str:
    """An INSERT of `rows` entries with every column of every row bound."""
    row = f"({', '.join('?' * len(ENTRY_COLUMNS))})"
    return f"INSERT INTO ledger_entries ({_COLUMNS}) VALUES {', '.join([row] * rows)}"


@dataclass(frozen=True, slots=True)
class InsertSizes:
    """The most rows one INSERT may carry, a power of two up to `ROWS_PER_INSERT` within
    SQLite's limit on variables (999 before SQLite 3.32): for a run and for full rows."""

    run: int
    full: int

    @classmethod
    def of(cls, connection: sqlite3.Connection) -> InsertSizes:
        limit = connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        return cls(
            run=_power_of_two((limit - len(_RUN_COLUMNS)) // len(_OWN_COLUMNS)),
            full=_power_of_two(limit // len(ENTRY_COLUMNS)),
        )


def _power_of_two(fits: int) -> int:
    if fits < 1:
        raise sqlite3.OperationalError("SQLite allows fewer variables per statement than a ledger row needs")
    largest = 1
    while largest * 2 <= min(fits, ROWS_PER_INSERT):
        largest *= 2
    return largest


def _insert_entries(connection: sqlite3.Connection, entries: Sequence[LedgerEntry], sizes: InsertSizes) -> None:
    """Insert the entries: runs of `SHORT_RUN` or more that share their request's values
    bound once, the others together as full rows."""
    width = len(_OWN_COLUMNS)
    full: list[object] = []
    for shared, own in _runs(entries):
        stored = _stored(shared)
        if len(own) >= SHORT_RUN * width:
            _execute_rows(connection, _insert_run, stored, own, width, sizes.run)
            continue
        for start in range(0, len(own), width):
            full += [own[start + index] if is_own else stored[index] for is_own, index in _PLACES]
    if full:
        _execute_rows(connection, _insert_full, [], full, len(ENTRY_COLUMNS), sizes.full)


def _runs(entries: Sequence[LedgerEntry]) -> list[tuple[tuple[object, ...], list[object]]]:
    """The entries as runs: each run's shared values (`_RUN_COLUMNS`) and its rows' own
    values (`_OWN_COLUMNS`) one after the other. A request's entries share the very
    objects, so comparing them is mostly identity checks."""
    runs: list[tuple[tuple[object, ...], list[object]]] = []
    shared: tuple[object, ...] | None = None
    own: list[object] = []
    for entry in entries:
        values = _run_values(entry)
        if values != shared:
            shared, own = values, []
            runs.append((values, own))
        own += _own_values(entry)
    return runs


def _execute_rows(connection: sqlite3.Connection, statement: Callable[[int], str], prefix: list[object],
                  values: Sequence[object], width: int, largest: int) -> None:
    """The rows whose `width` values each `values` holds one after the other, in
    statements of `largest` rows, then halving sizes for the rest: at most
    log2(largest) + 1 distinct statements, which the connection's statement cache keeps.
    `prefix` are the parameters every statement starts with."""
    done, size, total = 0, largest, len(values) // width
    while done < total:
        while size > total - done:
            size //= 2
        connection.execute(statement(size), [*prefix, *values[done * width:(done + size) * width]])
        done += size


def _stored(shared: tuple[object, ...]) -> list[object]:
    """A run's values as SQLite stores them (`_RUN_COLUMNS` order): the time as the
    chain's text, collections as JSON arrays."""
    return [
        format_time(value) if name == "time"  # type: ignore[arg-type]
        else orjson.dumps(list(value)).decode() if name in _COLLECTIONS  # type: ignore[call-overload]
        else value
        for name, value in zip(_RUN_COLUMNS, shared, strict=True)
    ]


_COLLECTIONS = frozenset({"roles", "fields", "masked_fields"})
if not {"time", *_COLLECTIONS} <= set(_RUN_COLUMNS):  # the values `_stored` converts
    raise ImportError("auth.ledger.sqlite_thread: a converted column is no longer shared by a request's entries")


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
        self._sizes = InsertSizes(run=1, full=1)  # rows per INSERT, set when the connection opens
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
            # record key, subject, time) stay in memory as the ledger grows, so that large
            # inserts do not slow down with it
            connection.execute("PRAGMA cache_size=-32768")
            connection.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")  # see sqlite_checkpoint
            self._sizes = InsertSizes.of(connection)
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
            _insert_entries(connection, chained, self._sizes)
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
