"""The access ledger's entries of a hub's store, read from a test (the hub may be running),
and a ledger that refuses every write (a trigger in the store)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import psycopg

from auth.ledger import LedgerEntry, query_entries
from hub.settings import Settings
from hub.store import create_store_engine


def ledger_entries(settings: Settings, **filters: Any) -> list[LedgerEntry]:
    """Up to 500 entries matching `filters` (those of `auth.ledger.query_entries`), newest first."""
    async def read() -> list[LedgerEntry]:
        engine = create_store_engine(settings.resolved_store_url)
        try:
            return await query_entries(engine, limit=500, **filters)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def refuse_ledger_writes(settings: Settings, on: bool) -> None:
    """From now on (`on`) the store's ledger refuses every insert, as a full disk would; or
    again accepts them (a trigger, on the store's SQLite file or PostgreSQL database)."""
    url = settings.resolved_store_url
    if url.startswith("postgresql"):
        with psycopg.connect(url.replace("+asyncpg", ""), autocommit=True) as db:
            if on:
                db.execute("CREATE FUNCTION refuse() RETURNS trigger AS "
                           "$$ BEGIN RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql")
                db.execute("CREATE TRIGGER refuse BEFORE INSERT ON ledger_entries "
                           "FOR EACH ROW EXECUTE FUNCTION refuse()")
            else:
                db.execute("DROP TRIGGER refuse ON ledger_entries")
                db.execute("DROP FUNCTION refuse()")
        return
    database = Path(url.split("///", 1)[1])
    with sqlite3.connect(database) as db:
        if on:
            db.execute("CREATE TRIGGER refuse BEFORE INSERT ON ledger_entries "
                       "BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        else:
            db.execute("DROP TRIGGER refuse")
