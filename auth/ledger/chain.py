"""The hash chain: canonical bytes of an entry and the hash that links it.

Canonical form (what an auditor re-implements to check the chain by hand):

* a JSON object of every column except ``entry_hash``, keys sorted, no whitespace,
  UTF-8 (non-ASCII characters as themselves, not ``\\u`` escapes);
* ``time`` as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC; ``roles``, ``fields`` and
  ``masked_fields`` as JSON arrays of strings, sorted; absent values as ``null``;
* ``entry_hash = sha256(prev_hash || canonical)`` in lower-case hex, where
  ``prev_hash`` is the previous entry's hash as 64 ASCII hex characters (64 zeros for
  the first entry, or the checkpoint's hash after retention).

Python's ``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
gives the same bytes; orjson is used because it is several times faster.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from auth.ledger.model import HASHED_COLUMNS, Checkpoint, LedgerEntry


def format_time(value: datetime) -> str:
    """The fixed ISO form of an aware datetime, in UTC with microseconds and ``Z``."""
    if value.tzinfo is None:
        raise ValueError("ledger times must be timezone-aware")
    return (
        value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
        + "Z"
    )


def canonical_bytes(values: Mapping[str, Any]) -> bytes:
    """The canonical JSON of an entry's hashed columns (`time` already formatted)."""
    return orjson.dumps(
        {name: values[name] for name in HASHED_COLUMNS}, option=orjson.OPT_SORT_KEYS
    )


def canonical_of_hashed(hashed: dict[str, Any]) -> bytes:
    """`canonical_bytes` for a dict that holds exactly the hashed columns (the chain
    builds one per entry): no copy. The chain's tests check both give the same bytes."""
    return orjson.dumps(hashed, option=orjson.OPT_SORT_KEYS)


def link_hash(prev_hash: str, canonical: bytes) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical).hexdigest()


def hashed_values(entry: LedgerEntry) -> dict[str, Any]:
    """The columns that enter the hash, `time` formatted."""
    values = {name: getattr(entry, name) for name in HASHED_COLUMNS}
    values["time"] = format_time(entry.time)
    return values


def entry_hash(entry: LedgerEntry) -> str:
    """The hash `entry` should carry, given its own prev_hash."""
    return link_hash(entry.prev_hash, canonical_bytes(hashed_values(entry)))


def checkpoint_payload(
    *, last_seq: int, last_hash: str, count: int, time: datetime
) -> bytes:
    """The bytes a checkpoint's signature covers (canonical JSON, like entries)."""
    return orjson.dumps(
        {
            "count": count,
            "last_hash": last_hash,
            "last_seq": last_seq,
            "time": format_time(time),
        },
        option=orjson.OPT_SORT_KEYS,
    )


def checkpoint_bytes(checkpoint: Checkpoint) -> bytes:
    return checkpoint_payload(
        last_seq=checkpoint.last_seq,
        last_hash=checkpoint.last_hash,
        count=checkpoint.count,
        time=checkpoint.time,
    )
