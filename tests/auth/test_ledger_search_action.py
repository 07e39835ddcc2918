"""A store created before `search` entries (issue 21) takes them once the hub starts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from auth.ledger import LedgerDraft, append, query_entries
from hub.store import create_store_engine, create_tables
from tests.support.pg_database import postgres_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
        return
    with postgres_database("ledger_search") as url:
        yield url


OLD_TABLE = """CREATE TABLE ledger_entries (seq INTEGER NOT NULL PRIMARY KEY, action VARCHAR(8) NOT NULL,
  CONSTRAINT ck_ledger_entries_action CHECK (action IN ('read', 'write')))"""


def _search() -> LedgerDraft:
    return LedgerDraft("r1", "officer", ("kelurahan_officer",), "population-service", "0" * 64, "Citizen",
                       "bornFrom=1980", ("birthDate",), ("birthDate",), action="search", detail="filter: bornFrom")


async def test_a_store_made_before_search_entries_takes_them_after_start_up(store_url: str) -> None:
    engine = create_store_engine(store_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(OLD_TABLE))
            await conn.execute(text("INSERT INTO ledger_entries (seq, action) VALUES (1, 'read')"))
        async with engine.begin() as conn:
            with pytest.raises(Exception, match="(?i)check"):
                await conn.execute(text("INSERT INTO ledger_entries (seq, action) VALUES (2, 'search')"))
        await create_tables(engine)
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO ledger_entries (seq, action) VALUES (2, 'search')"))
        async with engine.begin() as conn:
            with pytest.raises(Exception, match="(?i)check"):
                await conn.execute(text("INSERT INTO ledger_entries (seq, action) VALUES (3, 'other')"))
        async with engine.begin() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM ledger_entries"))).scalar() == 2
        await create_tables(engine)  # again: nothing to do
    finally:
        await engine.dispose()


async def test_a_new_store_keeps_a_search_entry_in_its_chain(store_url: str) -> None:
    engine = create_store_engine(store_url)
    try:
        await create_tables(engine)
        await append(engine, [_search()])
        (entry,) = await query_entries(engine, limit=10)
        assert entry.action == "search" and entry.record_key == "bornFrom=1980"
    finally:
        await engine.dispose()
