"""What the REST backends' `parsing` modules share: the `riwayat` status history and
the `/cari` search body built from a filter."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, TypeVar

from connectors._codes import lookup, optional_text, parse_datetime
from connectors.records import ApplicationStatus, ComplaintStatus, StatusChange

S = TypeVar("S", ApplicationStatus, ComplaintStatus)


def status_history(
    data: Mapping[str, Any], statuses: Mapping[str, S]
) -> tuple[StatusChange, ...]:
    """The `riwayat` list of a record; raises like the record parsers do."""
    return tuple(
        StatusChange(
            status=lookup("status", statuses, item["status"]),
            source_status=item["status"],
            at=parse_datetime(item["waktu"]),
            note=optional_text(item.get("catatan")),
        )
        for item in data.get("riwayat") or ()
    )


def codes_of(
    values: tuple[Any, ...] | None, table: Mapping[Any, str]
) -> tuple[str, ...] | None:
    """The source codes of filter values (None: no filter)."""
    return None if values is None else tuple(table[v] for v in values)


def search_filters(
    lists: Mapping[str, tuple[str, ...] | None],
    *,
    date_from: date | None,
    date_to: date | None,
) -> dict[str, Any] | None:
    """The `/cari` body for list filters and a date range; None when an empty list
    makes it match nothing."""
    body: dict[str, Any] = {}
    for name, values in lists.items():
        if values is None:
            continue
        if not values:
            return None
        body[name] = list(dict.fromkeys(values))
    if date_from is not None:
        body["dari"] = date_from.isoformat()
    if date_to is not None:
        body["sampai"] = date_to.isoformat()
    return body
