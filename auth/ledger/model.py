"""The ledger's record shapes: what a caller hands in, what the chain stores.

A `LedgerDraft` is one personal record returned (or changed) by one request, as the
schema layer sees it. `append` stamps it with the time, its place in the chain (`seq`)
and the hashes, and gives back a `LedgerEntry`. A `Checkpoint` stands in for the entries
removed by retention: the chain continues from its hash.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Action = Literal["read", "write", "search"]
ACTIONS: frozenset[str] = frozenset({"read", "write", "search"})

#: the prev_hash of the very first entry of a chain that was never pruned
GENESIS_HASH = "0" * 64


# Drafts and entries are made by the hundred for a page (one per record returned):
# plain slotted dataclasses, whose constructor is about three times faster than a frozen
# one's (`python -m bench.micro_ab --isolated`: with `schema.access.Shaped`, ~3.2% of the
# kelurahan page's p50). Nothing changes them once made; treat them as values.


@dataclass(slots=True)
class LedgerDraft:
    """One personal record returned by a request, before it joins the chain.

    `roles`, `fields` and `masked_fields` take any iterable (a principal's frozenset,
    a list of selected fields); they are stored sorted. `masked_fields` must be a subset
    of `fields`. `time` is normally left out: `append` stamps the time it writes the
    entry. A status change is an ``action="write"`` entry with the new status in
    `detail`. A search by personal data is an ``action="search"`` entry whose key is the
    searched values, masked, and whose fields are the fields matched.
    """

    request_id: str
    subject: str
    roles: Iterable[str]
    purpose: str | None
    document_hash: str
    record_type: str
    record_key: str
    fields: Iterable[str]
    masked_fields: Iterable[str] = ()
    action: Action = "read"
    detail: str | None = None
    client_id: str | None = None
    case: str | None = None
    operation_name: str | None = None
    department: str | None = None
    time: datetime | None = None


@dataclass(slots=True)
class LedgerEntry:
    """One link of the chain, exactly as stored and hashed.

    `entry_hash` is sha256(prev_hash || canonical bytes of every other column); see
    `auth.ledger.chain` for the canonical form.
    """

    seq: int
    time: datetime  # aware, UTC, microsecond precision
    request_id: str
    subject: str
    roles: tuple[str, ...]
    client_id: str | None
    purpose: str | None
    case: str | None
    operation_name: str | None
    document_hash: str
    record_type: str
    record_key: str
    fields: tuple[str, ...]
    masked_fields: tuple[str, ...]
    action: str
    detail: str | None
    department: str | None
    prev_hash: str
    entry_hash: str


#: every column of an entry, in declaration order; the canonical form hashes all but the last
ENTRY_COLUMNS: tuple[str, ...] = tuple(LedgerEntry.__dataclass_fields__)
HASHED_COLUMNS: tuple[str, ...] = tuple(c for c in ENTRY_COLUMNS if c != "entry_hash")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What retention leaves behind for the entries it removed.

    The chain's next entry has ``prev_hash == last_hash``. `count` is how many entries
    this prune removed; `signature` is the signer's answer over `checkpoint_payload`.
    """

    last_seq: int
    last_hash: str
    count: int
    time: datetime
    signature: str
