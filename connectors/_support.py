"""Small helpers shared by every backend: opaque cursors, page checks, key chunks.

Cursors are URL-safe base64 (no padding) of a short text such as a NIK or
``<timestamp>|<number>``. They are opaque to callers; a cursor that does not decode
to what the backend expects is the caller's mistake and becomes `SourceRejected`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
from collections.abc import Awaitable, Iterator, Sequence
from datetime import datetime, timedelta, timezone, tzinfo
from typing import TypeVar

from connectors.errors import SourceRejected
from connectors.records import PageRequest

#: Largest page any backend serves (the REST services' own limit).
MAX_PAGE_SIZE = 1000

NIK_PATTERN = re.compile(r"[0-9]{16}")  # ASCII digits: \d also matches other scripts' digits
KELURAHAN_PATTERN = re.compile(r"[0-9]{10}")

T = TypeVar("T")


def encode_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, *, source: str, operation: str) -> str:
    """The text inside `cursor`; `SourceRejected` if it is not one of ours."""
    if not isinstance(cursor, str) or not cursor or len(cursor) > 400:
        raise SourceRejected(source, "invalid cursor", operation=operation)
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise SourceRejected(source, "invalid cursor", operation=operation) from exc


def decode_nik_cursor(cursor: str, *, source: str, operation: str) -> str:
    nik = decode_cursor(cursor, source=source, operation=operation)
    if not NIK_PATTERN.fullmatch(nik):
        raise SourceRejected(source, "invalid cursor", operation=operation)
    return nik


def encode_keyset_cursor(at: datetime, key: str) -> str:
    return encode_cursor(f"{at.isoformat()}|{key}")


def decode_keyset_cursor(
    cursor: str, *, source: str, operation: str
) -> tuple[datetime, str]:
    """Decode a ``<ISO timestamp>|<key>`` cursor (naive or aware, as it was encoded)."""
    text = decode_cursor(cursor, source=source, operation=operation)
    stamp, sep, key = text.partition("|")
    if not sep or not key:
        raise SourceRejected(source, "invalid cursor", operation=operation)
    try:
        return datetime.fromisoformat(stamp), key
    except ValueError as exc:
        raise SourceRejected(source, "invalid cursor", operation=operation) from exc


def check_page(page: PageRequest, *, source: str, operation: str) -> None:
    if not isinstance(page.first, int) or isinstance(page.first, bool):
        raise SourceRejected(
            source, "page size must be an integer", operation=operation
        )
    if not 0 <= page.first <= MAX_PAGE_SIZE:
        raise SourceRejected(
            source,
            f"page size must be between 0 and {MAX_PAGE_SIZE}",
            operation=operation,
        )


def check_limit(limit: int, *, source: str, operation: str) -> None:
    if (
        not isinstance(limit, int)
        or isinstance(limit, bool)
        or not 1 <= limit <= MAX_PAGE_SIZE
    ):
        raise SourceRejected(
            source, f"limit must be between 1 and {MAX_PAGE_SIZE}", operation=operation
        )


def check_kelurahan_codes(codes: Sequence[str], *, source: str, operation: str) -> None:
    for code in codes:
        if not isinstance(code, str) or not KELURAHAN_PATTERN.fullmatch(code):
            raise SourceRejected(
                source,
                f"kelurahan code must be 10 digits: {code!r}",
                operation=operation,
            )


def unique(keys: Sequence[str]) -> list[str]:
    """Keys without duplicates, in first-seen order."""
    return list(dict.fromkeys(keys))


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


#: The sample systems' local time (Asia/Jakarta has no daylight saving).
WIB = timezone(timedelta(hours=7), "WIB")


def aware(value: datetime, tz: tzinfo = WIB) -> datetime:
    """`value` with a time zone; naive source times are taken as `tz`."""
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


async def gather_all(calls: Sequence[Awaitable[T]]) -> list[T]:
    """Run `calls` concurrently; the first failure cancels the rest and is raised as is."""
    if len(calls) == 1:
        return [await calls[0]]
    error: BaseException | None = None
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_awaited(call)) for call in calls]
    except BaseExceptionGroup as failures:
        error = _first(failures)
    if error is not None:
        raise error  # outside the handler: keeps the error's own `__cause__`
    return [task.result() for task in tasks]


async def _awaited(call: Awaitable[T]) -> T:
    return await call


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first(first) if isinstance(first, BaseExceptionGroup) else first
