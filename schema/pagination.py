"""Relay connections over the sources' keyset pages.

A source page is addressed by the source's own opaque cursor. An edge cursor names
"the page that starts at source cursor `c`, after skipping `o` items", so every edge
has a cursor even when a source only returns one per page; resuming from it fetches
the page at `c` and drops the first `o` items. The end cursor of a page is the
source's own next cursor (o = 0), so walking with `endCursor` costs one call a page.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from connectors.records import Page, PageRequest
from schema.errors import BadUserInput

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class HubCursor:
    source_cursor: str | None
    offset: int = 0

    def encode(self) -> str:
        raw = json.dumps({"c": self.source_cursor, "o": self.offset}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> HubCursor:
        try:
            padded = value + "=" * (-len(value) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            source_cursor, offset = data["c"], data["o"]
            if not (source_cursor is None or isinstance(source_cursor, str)):
                raise TypeError("c")
            if not isinstance(offset, int) or not 0 <= offset <= 10_000:
                raise TypeError("o")
        except (ValueError, TypeError, KeyError, binascii.Error, UnicodeError) as exc:
            raise BadUserInput("`after` is not a cursor returned by this API") from exc
        return cls(source_cursor, offset)


@dataclass(frozen=True, slots=True)
class Window(Generic[T]):
    """One page of items; the cursor of each is made when asked for (a listing of 1,000
    rows whose client reads `endCursor` only should not encode 1,000 cursors)."""

    items: Sequence[T]
    start: HubCursor  # where this window begins
    has_next: bool
    end_cursor: str | None
    total: int | None

    def cursor(self, index: int) -> str:
        """The cursor of `items[index]`: resuming after it yields the items after it."""
        if index == len(self.items) - 1 and self.end_cursor is not None:
            return self.end_cursor
        return HubCursor(self.start.source_cursor, self.start.offset + index + 1).encode()

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
) -> Window[T]:
    start = HubCursor.decode(after) if after else HubCursor(None, 0)
    if first == 0 and not with_total:
        return Window((), start, False, None, None)
    page = await fetch(
        PageRequest(first=max(first, 1) + start.offset, after=start.source_cursor, with_total=with_total)
    )
    items = page.items[start.offset : start.offset + first]
    last = HubCursor(start.source_cursor, start.offset + len(items)).encode() if items else None
    consumed_whole_page = start.offset + len(items) >= len(page.items)
    if consumed_whole_page:
        has_next = page.has_next
        end_cursor = HubCursor(page.end_cursor, 0).encode() if page.end_cursor and items else last
    else:
        has_next = True
        end_cursor = last
    return Window(items, start, has_next, end_cursor, page.total)
