"""Shared machinery of the in-memory backends: call counting, injected failure, pages."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from connectors._support import check_limit, decode_cursor, encode_cursor
from connectors.errors import ConnectorError, SourceRejected
from connectors.records import Change, ChangeBatch, Page, PageRequest

R = TypeVar("R")


class MemorySource:
    """Base of the fakes: `calls` counts calls per method; `failure`, when set, is raised
    by every call (to test degradation) until cleared."""

    def __init__(self, source_id: str) -> None:
        self.source_id = source_id
        self.calls: Counter[str] = Counter()
        self.failure: ConnectorError | None = None
        self._feed: list[Change] = []

    def _enter(self, operation: str) -> None:
        self.calls[operation] += 1
        if self.failure is not None:
            raise self.failure

    async def check(self) -> None:
        self._enter("check")

    async def aclose(self) -> None:
        self.calls["aclose"] += 1

    def _append_change(self, key: str, at: datetime) -> None:
        self._feed.append(Change(key=key, at=at))

    async def changes_since(self, cursor: str | None, limit: int = 1000) -> ChangeBatch:
        """The change feed in append order; the cursor is a position in it."""
        operation = "changes_since"
        self._enter(operation)
        check_limit(limit, source=self.source_id, operation=operation)
        start = 0
        if cursor is not None:
            text = decode_cursor(cursor, source=self.source_id, operation=operation)
            if not text.startswith("p:") or not text[2:].isdigit():
                raise SourceRejected(
                    self.source_id, "invalid cursor", operation=operation
                )
            start = int(text[2:])
        changes = self._feed[start : start + limit]
        end = start + len(changes)
        return ChangeBatch(
            changes=list(changes),
            cursor=encode_cursor(f"p:{end}") if changes else None,
            has_more=end < len(self._feed),
        )


def keyset_page(
    ordered: Sequence[R],
    page: PageRequest,
    *,
    key: Callable[[R], Any],
    after: Any | None,
    descending: bool,
    cursor_of: Callable[[R], str],
) -> Page[R]:
    """One page of `ordered` (already filtered and sorted) after the key `after`."""
    total = len(ordered) if page.with_total else None
    rest: Sequence[R] = ordered
    if after is not None:
        rest = [
            r for r in ordered if (key(r) < after if descending else key(r) > after)
        ]
    items = list(rest[: page.first])
    return Page(
        items=items,
        end_cursor=cursor_of(items[-1]) if items else None,
        has_next=len(rest) > page.first,
        total=total,
    )
