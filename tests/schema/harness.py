"""Shared pieces of the schema tests (imported by name: test folders are not packages)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from auth.ledger import LedgerDraft
from auth.ledger.store import check_drafts
from auth.principal import Principal

Execute = Callable[..., Awaitable[dict[str, Any]]]

POPULATION_OFFICER = Principal(subject="officer-1", roles=frozenset({"population_officer"}), department="disdukcapil")


class MemoryLedger:
    """Collects ledger drafts; `fail` makes the next writes raise; `batches` counts the
    writes and `written` is set at the first."""

    def __init__(self) -> None:
        self.drafts: list[LedgerDraft] = []
        self.fail = False
        self.batches = 0
        self.written = asyncio.Event()

    async def __call__(self, drafts: Sequence[LedgerDraft]) -> None:
        self.batches += 1
        self.written.set()
        if self.fail:
            raise OSError("ledger store unreachable")
        self.drafts.extend(check_drafts(drafts))  # refused as the real ledger refuses them
