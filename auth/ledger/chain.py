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
gives the same bytes; orjson is used because it is faster.
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


#: the hashed columns that differ between the entries of one request; every other
#: hashed column is usually the same for all of them (see `EntryTemplate`)
PER_ENTRY_COLUMNS: tuple[str, ...] = ("prev_hash", "record_key", "seq")
if tuple(sorted(PER_ENTRY_COLUMNS)) != PER_ENTRY_COLUMNS:  # `EntryTemplate.canonical` relies on it
    raise ImportError("auth.ledger.chain: PER_ENTRY_COLUMNS must be in canonical (sorted) order")


class EntryTemplate:
    """`canonical_bytes` split around the columns that change from entry to entry.

    A request's entries share every hashed column except `PER_ENTRY_COLUMNS`, so the
    chain encodes the shared ones once and each entry's canonical bytes are the fixed
    segments joined with its own prev_hash, record_key and seq: the same bytes as
    `canonical_bytes`, without a dict and a sorted encode per entry (the tests compare
    both over varied values).
    """

    __slots__ = ("_segments",)

    def __init__(self, shared: Mapping[str, Any]) -> None:
        segments: list[bytes] = []
        pending = b"{"
        for name in sorted(HASHED_COLUMNS):
            pending += orjson.dumps(name) + b":"
            if name in PER_ENTRY_COLUMNS:
                segments.append(pending)
                pending = b""
            else:
                pending += orjson.dumps(shared[name])
            pending += b","
        segments.append(pending[:-1] + b"}")
        self._segments = tuple(segments)
        if len(self._segments) != len(PER_ENTRY_COLUMNS) + 1:  # pragma: no cover - a renamed column
            raise ValueError("the per-entry columns are not all hashed columns")

    def canonical(self, prev_hash: str, record_key: str, seq: int) -> bytes:
        """The canonical bytes of the entry with these per-entry values."""
        before_prev, before_key, before_seq, rest = self._segments  # sorted: prev_hash, record_key, seq
        return b"".join((before_prev, orjson.dumps(prev_hash), before_key, orjson.dumps(record_key),
                         before_seq, b"%d" % seq, rest))


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
