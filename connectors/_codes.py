"""Code-table helpers shared by the sources' `codes` modules."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TypeVar

from connectors._support import WIB, aware

K = TypeVar("K")
V = TypeVar("V")


class UnknownCode(ValueError):
    """A source value that no code table knows; the record cannot be mapped."""

    def __init__(self, column: str, value: object) -> None:
        super().__init__(f"unknown {column} code {value!r}")
        self.column = column
        self.value = value


def invert(table: Mapping[K, V]) -> dict[V, K]:
    """The reverse of a one-to-one code table."""
    reverse = {value: code for code, value in table.items()}
    if len(reverse) != len(table):
        raise ValueError("code table is not one-to-one")
    return reverse


def lookup(column: str, table: Mapping[str, V], value: object) -> V:
    """The domain value of a text code; `UnknownCode` if the table lacks it."""
    if not isinstance(value, str) or value not in table:
        raise UnknownCode(column, value)
    return table[value]


def parse_datetime(value: object) -> datetime:
    """An ISO 8601 time from a source; naive times are taken as WIB (+07:00)."""
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 time, got {type(value).__name__}")
    return aware(datetime.fromisoformat(value), WIB)


def parse_optional_datetime(value: object) -> datetime | None:
    return None if value is None else parse_datetime(value)


def optional_text(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value
