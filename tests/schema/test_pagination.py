from __future__ import annotations

import pytest

from connectors.records import Page, PageRequest
from schema.errors import BadUserInput
from schema.pagination import HubCursor, fetch_window, page_size

ITEMS = [f"item-{i:03d}" for i in range(25)]


async def fetch(request: PageRequest) -> Page[str]:
    """A keyset source over ITEMS whose cursors are the index after the page."""
    start = int(request.after) if request.after else 0
    items = ITEMS[start : start + request.first]
    end = start + len(items)
    return Page(items, str(end) if items else None, end < len(ITEMS), len(ITEMS) if request.with_total else None)


async def walk(first: int, use_edge_cursors: bool = False) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        window = await fetch_window(fetch, first=first, after=after, with_total=False)
        seen.extend(window.items)
        if not window.has_next:
            return seen
        after = window.cursors[-1] if use_edge_cursors else window.end_cursor


@pytest.mark.parametrize("first", [1, 7, 10, 25, 30])
async def test_walking_all_pages_sees_every_item_once(first: int) -> None:
    assert await walk(first) == ITEMS


async def test_any_edge_cursor_resumes_right_after_its_item() -> None:
    window = await fetch_window(fetch, first=10, after=None, with_total=False)
    resumed = await fetch_window(fetch, first=3, after=window.cursors[4], with_total=False)
    assert list(resumed.items) == ITEMS[5:8]
    again = await fetch_window(fetch, first=3, after=resumed.cursors[1], with_total=False)
    assert list(again.items) == ITEMS[7:10]


async def test_total_is_fetched_only_when_asked() -> None:
    assert (await fetch_window(fetch, first=5, after=None, with_total=False)).total is None
    assert (await fetch_window(fetch, first=5, after=None, with_total=True)).total == 25


@pytest.mark.parametrize("cursor", ["not-base64!", "eyJ4IjoxfQ", HubCursor("x", 10**6).encode(), ""])
async def test_a_forged_cursor_is_bad_user_input(cursor: str) -> None:
    if cursor == "":
        # an empty `after` means the first page
        assert (await fetch_window(fetch, first=2, after=cursor, with_total=False)).items == ITEMS[:2]
        return
    with pytest.raises(BadUserInput):
        await fetch_window(fetch, first=2, after=cursor, with_total=False)


def test_page_size_is_capped_and_defaulted() -> None:
    assert page_size(None, default=20, maximum=100) == 20
    assert page_size(100, default=20, maximum=100) == 100
    with pytest.raises(BadUserInput):
        page_size(101, default=20, maximum=100)
    with pytest.raises(BadUserInput):
        page_size(-1, default=20, maximum=100)
