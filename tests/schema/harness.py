"""Shared pieces of the schema tests (imported by name: test folders are not packages)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from auth.ledger import LedgerDraft
from auth.principal import Principal

Execute = Callable[..., Awaitable[dict[str, Any]]]

POPULATION_OFFICER = Principal(subject="officer-1", roles=frozenset({"population_officer"}), department="disdukcapil")


class MemoryLedger:
    """Collects ledger drafts; `fail` makes the next writes raise."""

    def __init__(self) -> None:
        self.drafts: list[LedgerDraft] = []
        self.fail = False

    async def __call__(self, drafts: Sequence[LedgerDraft]) -> None:
        if self.fail:
            raise OSError("ledger store unreachable")
        self.drafts.extend(drafts)
