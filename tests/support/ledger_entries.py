"""The access ledger's entries of a hub's store, read from a test (the hub may be running)."""

from __future__ import annotations

import asyncio
from typing import Any

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
