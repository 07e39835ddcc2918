from __future__ import annotations

import base64

import pytest

from connectors.records import Page, PageRequest
from schema.cursors import CursorCodec
from schema.errors import BadUserInput
from schema.pagination import Cursors, HubCursor, fetch_window, page_size

ITEMS = [f"item-{i:03d}" for i in range(25)]
CURSORS = Cursors(CursorCodec.ephemeral(), b"items", max_offset=100)
REQUESTS: list[PageRequest] = []


async def fetch(request: PageRequest) -> Page[str]:
    """A keyset source over ITEMS whose cursors are the index after the page."""
    REQUESTS.append(request)
    start = int(request.after) if request.after else 0
    items = ITEMS[start : start + request.first]
    end = start + len(items)
    return Page(items, str(end) if items else None, end < len(ITEMS), len(ITEMS) if request.with_total else None)


async def walk(first: int, use_edge_cursors: bool = False) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        window = await fetch_window(fetch, first=first, after=after, with_total=False, cursors=CURSORS)
        seen.extend(window.items)
        if not window.has_next:
            return seen
        after = window.cursors[-1] if use_edge_cursors else window.end_cursor


@pytest.mark.parametrize("first", [1, 7, 10, 25, 30])
async def test_walking_all_pages_sees_every_item_once(first: int) -> None:
    assert await walk(first) == ITEMS


async def test_any_edge_cursor_resumes_right_after_its_item() -> None:
    window = await fetch_window(fetch, first=10, after=None, with_total=False, cursors=CURSORS)
    resumed = await fetch_window(fetch, first=3, after=window.cursors[4], with_total=False, cursors=CURSORS)
    assert list(resumed.items) == ITEMS[5:8]
    again = await fetch_window(fetch, first=3, after=resumed.cursors[1], with_total=False, cursors=CURSORS)
    assert list(again.items) == ITEMS[7:10]


async def test_total_is_fetched_only_when_asked() -> None:
    assert (await fetch_window(fetch, first=5, after=None, with_total=False, cursors=CURSORS)).total is None
    assert (await fetch_window(fetch, first=5, after=None, with_total=True, cursors=CURSORS)).total == 25


def _altered(token: str) -> str:
    middle = len(token) // 2
    return token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]


ALTERED = _altered(CURSORS.seal(HubCursor("10", 0)))
OTHER = Cursors(CursorCodec.ephemeral(), b"items", max_offset=100)
FOREIGN = Cursors(CURSORS.codec, b"another listing", max_offset=100)


@pytest.mark.parametrize("cursor", [
    "not-base64!", "eyJ4IjoxfQ", "eyJjIjoiMTAiLCJvIjowfQ",  # the old, readable form: {"c":"10","o":0}
    OTHER.seal(HubCursor("10", 0)),  # another key
    FOREIGN.seal(HubCursor("10", 0)),  # another listing
    CURSORS.seal(HubCursor("10", 0))[:-4],  # truncated
    ALTERED,
    CURSORS.codec.seal(HubCursor("10", 101), b"items"),  # an offset beyond the largest page
    "",
])
async def test_a_forged_cursor_is_bad_user_input(cursor: str) -> None:
    if cursor == "":
        # an empty `after` means the first page
        assert (await fetch_window(fetch, first=2, after=cursor, with_total=False, cursors=CURSORS)).items == ITEMS[:2]
        return
    with pytest.raises(BadUserInput):
        await fetch_window(fetch, first=2, after=cursor, with_total=False, cursors=CURSORS)


def test_page_size_is_capped_and_defaulted() -> None:
    assert page_size(None, default=20, maximum=100) == 20
    assert page_size(100, default=20, maximum=100) == 100
    with pytest.raises(BadUserInput):
        page_size(101, default=20, maximum=100)
    with pytest.raises(BadUserInput):
        page_size(-1, default=20, maximum=100)


def test_a_sealed_cursor_carries_no_source_cursor_in_plain_sight() -> None:
    nik = "1471084505900001"
    token = CURSORS.seal(HubCursor(nik, 0))
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert nik not in token and nik.encode() not in raw
    assert base64.urlsafe_b64encode(nik.encode()).decode().rstrip("=")[:12] not in token
    assert CURSORS.open(token) == HubCursor(nik, 0)
    assert FOREIGN.seal(HubCursor(nik, 0)) != token  # another listing's cursor for the same position


async def test_resuming_from_an_edge_asks_the_source_for_no_more_rows_than_the_page_needs() -> None:
    window = await fetch_window(fetch, first=10, after=None, with_total=False, cursors=CURSORS)
    REQUESTS.clear()
    resumed = await fetch_window(fetch, first=5, after=window.cursors[6], with_total=False, cursors=CURSORS)
    assert list(resumed.items) == ITEMS[7:12]
    assert sum(r.first for r in REQUESTS) == 7 + 5  # the skipped rows, then the page
    # the new window starts at a source cursor: its edges' offsets stay within one page
    for cursor in resumed.cursors:
        assert CURSORS.open(cursor).offset <= 5
