"""Relay connections over the sources' keyset pages.

A source page is addressed by the source's own cursor. An edge cursor names "the page
that starts at source cursor `c`, after skipping `o` items", so every edge has a cursor
even when a source only returns one per page; resuming from it skips the first `o`
items with a call of their own, so that the new page starts at a source cursor again
and `o` never exceeds one page (the source is asked for `o` + `first` rows, no more).
The end cursor of a page is the source's own next cursor (o = 0), so walking with
`endCursor` costs one call a page. Cursors leave the hub sealed (`schema.cursors`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from connectors.records import Page, PageRequest
from schema.cursors import CursorCodec, HubCursor
from schema.errors import BadUserInput

T = TypeVar("T")

__all__ = ["Cursors", "HubCursor", "Window", "fetch_window", "page_size"]


@dataclass(frozen=True, slots=True)
class Cursors:
    """One listing's cursors: sealed with the hub's codec, bound to the listing."""

    codec: CursorCodec
    bound_to: bytes
    max_offset: int

    def seal(self, cursor: HubCursor) -> str:
        return self.codec.seal(cursor, self.bound_to)

    def open(self, token: str) -> HubCursor:
        return self.codec.open(token, self.bound_to, max_offset=self.max_offset)


@dataclass(frozen=True, slots=True)
class Window(Generic[T]):
    """One page of items; the cursor of each is made when asked for (a listing of 1,000
    rows whose client reads `endCursor` only should not seal 1,000 cursors)."""

    items: Sequence[T]
    start: HubCursor  # where this window begins (offset 0: a source cursor)
    has_next: bool
    end_cursor: str | None
    total: int | None
    sealing: Cursors

    def cursor(self, index: int) -> str:
        """The cursor of `items[index]`: resuming after it yields the items after it."""
        if index == len(self.items) - 1 and self.end_cursor is not None:
            return self.end_cursor
        return self.sealing.seal(HubCursor(self.start.source_cursor, self.start.offset + index + 1))

    @property
    def cursors(self) -> list[str]:
        return [self.cursor(i) for i in range(len(self.items))]


def page_size(first: int | None, *, default: int, maximum: int) -> int:
    if first is None:
        return default
    if first < 0:
        raise BadUserInput("`first` must not be negative")
    if first > maximum:
        raise BadUserInput(f"`first` may be at most {maximum}", details={"maximum": maximum})
    return first


async def fetch_window(
    fetch: Callable[[PageRequest], Awaitable[Page[T]]],
    *,
    first: int,
    after: str | None,
    with_total: bool,
    cursors: Cursors,
) -> Window[T]:
    start = cursors.open(after) if after else HubCursor(None, 0)
    total: int | None = None
    if start.offset:
        # skip to the item after the cursor's: the window then starts at a source cursor
        skipped = await fetch(PageRequest(first=start.offset, after=start.source_cursor, with_total=with_total))
        total, with_total = skipped.total, False
        if len(skipped.items) < start.offset or not skipped.has_next or skipped.end_cursor is None:
            return Window((), start, False, None, total, cursors)
        start = HubCursor(skipped.end_cursor, 0)
    if first == 0 and not with_total:
        return Window((), start, False, None, total, cursors)
    page = await fetch(PageRequest(first=max(first, 1), after=start.source_cursor, with_total=with_total))
    items = page.items[:first]
    if with_total:
        total = page.total
    if len(items) < len(page.items):  # first == 0: a row was fetched for the total only
        return Window(items, start, True, None, total, cursors)
    end_cursor = cursors.seal(HubCursor(page.end_cursor, 0)) if page.end_cursor and items else None
    return Window(items, start, page.has_next, end_cursor, total, cursors)
