"""How the ledger holds the chain head while it writes, on SQLite and PostgreSQL.

Every writer (`append`, `prune`) runs in one transaction that first takes the head row:

* PostgreSQL: ``SELECT ... FROM ledger_head WHERE id = 1 FOR UPDATE``. Writers in any
  number of processes queue on that row lock; the next one reads the committed head.
* SQLite: the transaction starts with ``BEGIN IMMEDIATE``, which takes the database's
  write lock at once, so two writers never read the same head. Waiting writers rely on
  ``busy_timeout``; WAL lets readers go on meanwhile.

Python's sqlite3 driver (and aiosqlite on top of it) does not emit BEGIN for SELECT,
so SQLAlchemy's documented recipe is used (see "Enabling Non-Legacy SQLite
Transactional Modes" in the SQLite dialect docs): a ``connect`` hook turns the driver's
own transaction handling off and sets the pragmas; a ``begin`` hook emits BEGIN itself.
The hook emits ``BEGIN IMMEDIATE`` for connections carrying the execution option
``sqlite_begin="IMMEDIATE"`` and a plain (deferred) ``BEGIN`` otherwise, so other users
of the same engine keep ordinary transactions. Install it with `prepare_engine` when the
engine is created; the ledger's functions also call it (it is idempotent), but pooled
connections opened before that keep the driver's defaults for the pragmas.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from auth.ledger.model import GENESIS_HASH
from auth.ledger.tables import ledger_head

SQLITE_BEGIN_OPTION = "sqlite_begin"
_SYNCHRONOUS = frozenset({"OFF", "NORMAL", "FULL", "EXTRA"})
#: SQLite's page size for a new store (an existing file keeps its own). A commit writes
#: every page it changed to the log, and a page of entries carries four B-trees (the
#: rows, by record key, by subject, by time): with 8 KiB pages a 1,000-entry commit
#: writes less and takes less time than with SQLite's 4 KiB (docs/performance.md,
#: "Figures that code comments once quoted").
#: It must come before `journal_mode=WAL`, which writes the file's first page.
PAGE_SIZE_PRAGMA = "PRAGMA page_size=8192"


def _emit_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")


def prepare_engine(
    engine: AsyncEngine, *, busy_timeout_ms: int = 30_000, synchronous: str = "FULL"
) -> None:
    """Install the SQLite transaction hooks and pragmas on `engine` (no-op elsewhere).

    `synchronous="FULL"` makes every commit durable on power loss, which is what
    "written before the data leaves" needs; NORMAL in WAL mode is faster but may lose
    the last commits on a crash of the machine.
    """
    sync_engine = engine.sync_engine
    if sync_engine.dialect.name != "sqlite" or event.contains(
        sync_engine, "begin", _emit_begin
    ):
        return
    if synchronous.upper() not in _SYNCHRONOUS or busy_timeout_ms < 0:
        raise ValueError(
            "synchronous must be OFF, NORMAL, FULL or EXTRA; busy_timeout_ms >= 0"
        )
    pragmas = (
        PAGE_SIZE_PRAGMA,
        "PRAGMA journal_mode=WAL",
        f"PRAGMA busy_timeout={int(busy_timeout_ms)}",
        f"PRAGMA synchronous={synchronous.upper()}",
    )

    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None  # the begin hook emits BEGIN
        cursor = dbapi_connection.cursor()
        try:
            for pragma in pragmas:
                cursor.execute(pragma)
        finally:
            cursor.close()

    event.listen(sync_engine, "connect", on_connect)
    event.listen(sync_engine, "begin", _emit_begin)


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One committed transaction that may move the chain head (BEGIN IMMEDIATE on SQLite)."""
    prepare_engine(engine)
    async with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            await conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        async with conn.begin():
            yield conn


async def lock_head(conn: AsyncConnection) -> tuple[int, str]:
    """The chain head (last seq, its hash), locked until the transaction ends.

    Creates the genesis head on first use (concurrently safe: ON CONFLICT DO NOTHING).
    """
    stmt = select(ledger_head.c.seq, ledger_head.c.entry_hash).where(
        ledger_head.c.id == 1
    )
    row = (await conn.execute(stmt.with_for_update())).first()
    if row is None:
        await conn.execute(_insert_genesis(conn.dialect.name))
        row = (await conn.execute(stmt.with_for_update())).one()
    return int(row.seq), str(row.entry_hash)


def _insert_genesis(dialect_name: str) -> Any:
    values = {"id": 1, "seq": 0, "entry_hash": GENESIS_HASH}
    if dialect_name == "postgresql":
        return postgresql.insert(ledger_head).values(values).on_conflict_do_nothing()
    if dialect_name == "sqlite":
        return sqlite.insert(ledger_head).values(values).on_conflict_do_nothing()
    return ledger_head.insert().values(values)


async def move_head(conn: AsyncConnection, *, seq: int, entry_hash: str) -> None:
    await conn.execute(
        update(ledger_head)
        .where(ledger_head.c.id == 1)
        .values(seq=seq, entry_hash=entry_hash)
    )


async def read_head(conn: AsyncConnection) -> tuple[int, str]:
    """The chain head without locking it; genesis when nothing was ever written."""
    stmt = select(ledger_head.c.seq, ledger_head.c.entry_hash).where(
        ledger_head.c.id == 1
    )
    row = (await conn.execute(stmt)).first()
    return (0, GENESIS_HASH) if row is None else (int(row.seq), str(row.entry_hash))
