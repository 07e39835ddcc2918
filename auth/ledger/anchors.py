"""Signed checkpoints of the chain head, kept outside the store: what shows a rollback.

The chain and its head row live in one store: whoever may write the store may delete
the newest entries and set the head back, and the walk in `verify` then finds a sound,
shorter chain. A `HeadCheckpoint` is the head as it was, {seq, head hash, time}, signed
by the hub (a compact JWS from the signer the hub passes in) and appended to a file
outside the store (`auth.ledger.anchor_file`). `check_head_checkpoints` holds the chain
to every checkpoint: the chain must reach the checkpoint's seq, and the entry there must
still carry the checkpoint's hash. As each hash covers every entry before it, a match
at seq N vouches for entries 1..N.

`anchor_head` writes the next checkpoint; it first holds the chain to the file's last
one and refuses to sign a head that has gone back (the signer would otherwise vouch for
the rolled-back chain). Entries below the newest retention checkpoint are gone by design:
a head checkpoint there is checked against the retention checkpoint at the same seq,
if any, and otherwise counted as pruned.

Canonical payload: ``{"head": ..., "prev": ..., "seq": N, "time": "...Z"}``, keys sorted,
no whitespace (the same JSON form as the chain's entries); `prev` links the file's lines.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.ledger.anchor_file import FIRST_PREV, CheckpointFile
from auth.ledger.chain import format_time
from auth.ledger.errors import LedgerUnavailable
from auth.ledger.store import Clock, utc_now
from auth.ledger.tables import ledger_checkpoints, ledger_entries
from auth.ledger.transactions import prepare_engine, read_head

Signer = Callable[[bytes], str]
Verifier = Callable[[bytes, str], bool]
_HEX = frozenset("0123456789abcdef")
_CHUNK = 500
_PRUNED = "pruned"  # `_contradiction`'s answer for a seq below the retention boundary


@dataclass(frozen=True, slots=True)
class HeadCheckpoint:
    """The chain head at `time`: `seq` entries had been written, the last hashing to `head`."""

    seq: int
    head: str
    time: datetime
    prev: str  # the file line before this one (`line_hash`)
    signature: str  # compact JWS whose payload is `payload()`

    def payload(self) -> bytes:
        return head_payload(seq=self.seq, head=self.head, time=self.time, prev=self.prev)

    def to_record(self) -> dict[str, Any]:
        """The file line (and the public document): the signed values, then the JWS."""
        return {"seq": self.seq, "head": self.head, "time": format_time(self.time),
                "prev": self.prev, "jws": self.signature}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> HeadCheckpoint:
        """Raises `ValueError` for anything but a well-formed checkpoint line."""
        seq, head, time, prev, signature = (record.get(k) for k in ("seq", "head", "time", "prev", "jws"))
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
            raise ValueError("seq must be a positive integer")
        for name, value in (("head", head), ("prev", prev)):
            if not isinstance(value, str) or len(value) != 64 or not set(value) <= _HEX:
                raise ValueError(f"{name} must be 64 lower-case hex digits")
        if not isinstance(time, str) or not isinstance(signature, str) or not signature:
            raise ValueError("time and jws must be strings")
        moment = datetime.fromisoformat(time)
        if moment.tzinfo is None or format_time(moment) != time:
            raise ValueError("time must be YYYY-MM-DDTHH:MM:SS.ffffffZ")
        return cls(seq, head, moment, prev, signature)  # type: ignore[arg-type]

    def signed_by(self, verifier: Verifier) -> bool:
        try:
            return bool(verifier(self.payload(), self.signature))
        except Exception:  # noqa: BLE001 - a verifier that cannot check has not verified
            return False


def head_payload(*, seq: int, head: str, time: datetime, prev: str) -> bytes:
    return orjson.dumps({"head": head, "prev": prev, "seq": seq, "time": format_time(time)},
                        option=orjson.OPT_SORT_KEYS)


@dataclass(frozen=True, slots=True)
class Contradiction:
    """A signed checkpoint the chain no longer agrees with."""

    checkpoint: HeadCheckpoint
    detail: str


@dataclass(frozen=True, slots=True)
class HeadCheck:
    contradictions: list[Contradiction]
    checked: int  # checkpoints matched against an entry (or a retention checkpoint)
    pruned: int  # checkpoints below the retention boundary, not checkable entry by entry
    head_seq: int
    head_hash: str


async def check_head_checkpoints(engine: AsyncEngine, checkpoints: Iterable[HeadCheckpoint]) -> HeadCheck:
    """Hold the chain to each checkpoint (signatures already checked by the caller).

    Raises `LedgerUnavailable` when the store cannot be read."""
    checkpoints = list(checkpoints)
    prepare_engine(engine)
    try:
        async with engine.connect() as conn:
            head_seq, head_hash = await read_head(conn)
            retained = {int(row.last_seq): str(row.last_hash) for row in await conn.execute(
                select(ledger_checkpoints.c.last_seq, ledger_checkpoints.c.last_hash))}
            wanted = sorted({c.seq for c in checkpoints if c.seq <= head_seq and c.seq not in retained})
            stored: dict[int, str] = {}
            for start in range(0, len(wanted), _CHUNK):
                rows = await conn.execute(
                    select(ledger_entries.c.seq, ledger_entries.c.entry_hash)
                    .where(ledger_entries.c.seq.in_(wanted[start:start + _CHUNK])))
                stored.update((int(row.seq), str(row.entry_hash)) for row in rows)
    except Exception as exc:
        raise LedgerUnavailable(f"the access ledger could not be read: {exc.__class__.__name__}") from exc
    boundary = max(retained, default=0)
    contradictions: list[Contradiction] = []
    checked = pruned = 0
    for checkpoint in checkpoints:
        detail = _contradiction(checkpoint, head_seq=head_seq, head_hash=head_hash,
                                retained=retained, stored=stored, boundary=boundary)
        if detail is None:
            checked += 1
        elif detail is _PRUNED:
            pruned += 1
        else:
            contradictions.append(Contradiction(checkpoint, detail))
    return HeadCheck(contradictions, checked, pruned, head_seq, head_hash)


def _contradiction(checkpoint: HeadCheckpoint, *, head_seq: int, head_hash: str, retained: dict[int, str],
                   stored: dict[int, str], boundary: int) -> str | None:
    seq, signed = checkpoint.seq, checkpoint.head
    if seq > head_seq:
        missing = f"entry {seq} is" if seq == head_seq + 1 else f"entries {head_seq + 1}..{seq} are"
        return f"the chain ends at seq {head_seq}, but the checkpoint signed seq {seq}: {missing} missing"
    found = head_hash if seq == head_seq else retained.get(seq, stored.get(seq))
    if found is None:
        return _PRUNED if seq < boundary else f"entry {seq}, which a checkpoint signed, is missing"
    if found != signed:
        return (f"entry {seq} hashes to {found[:16]}…, but the checkpoint signed {signed[:16]}…: "
                "the entries up to it were replaced")
    return None


AnchorOutcome = Literal["written", "unchanged", "empty", "refused"]


@dataclass(frozen=True, slots=True)
class Anchored:
    outcome: AnchorOutcome
    checkpoint: HeadCheckpoint | None  # the one written, or the file's last one
    detail: str = ""


async def anchor_head(
    engine: AsyncEngine,
    file: CheckpointFile,
    *,
    signer: Signer,
    verifier: Verifier | None = None,
    clock: Clock = utc_now,
) -> Anchored:
    """Sign the current head and append it to `file`, unless it is the file's last one.

    Holds the file's lock meanwhile, so that writers sharing the file append in head
    order. Refuses (writes nothing) when the chain contradicts the file's last checkpoint,
    when the last line is not a checkpoint, or (given `verifier`) when the last
    checkpoint's signature does not hold: a line the hub signs vouches for the lines
    before it (`prev`), so it never links to one it cannot vouch for. Raises `LedgerUnavailable` if the store cannot be read, `OSError` if the file cannot be
    written, and whatever the signer raises.
    """
    locked = await asyncio.to_thread(file.lock)
    try:
        record, prev = await asyncio.to_thread(locked.last)
        last = _checkpoint_or_none(record)
        if last is None and prev != FIRST_PREV:  # never link a signed line to what is not a checkpoint
            return Anchored("refused", None, "the file's last line is not a ledger checkpoint")
        if last is not None and verifier is not None and not last.signed_by(verifier):
            return Anchored("refused", last, "the file's last checkpoint does not carry this hub's signature")
        check = await check_head_checkpoints(engine, [] if last is None else [last])
        if check.contradictions:
            return Anchored("refused", last, check.contradictions[0].detail)
        head_seq, head_hash = check.head_seq, check.head_hash
        if head_seq == 0:
            return Anchored("empty", last)
        if last is not None and (last.seq, last.head) == (head_seq, head_hash):
            return Anchored("unchanged", last)
        now = clock()
        signature = signer(head_payload(seq=head_seq, head=head_hash, time=now, prev=prev))
        if not isinstance(signature, str) or not signature:
            raise ValueError("the checkpoint signer returned no signature")
        checkpoint = HeadCheckpoint(head_seq, head_hash, now, prev, signature)
        await asyncio.to_thread(locked.append, checkpoint.to_record())
        return Anchored("written", checkpoint)
    finally:
        await asyncio.to_thread(locked.release)


def _checkpoint_or_none(record: Mapping[str, Any] | None) -> HeadCheckpoint | None:
    """The file's last line as a checkpoint, or None if it is not one."""
    if record is None:
        return None
    try:
        return HeadCheckpoint.from_record(record)
    except ValueError:
        return None


def latest(checkpoints: Sequence[HeadCheckpoint]) -> HeadCheckpoint | None:
    """The checkpoint of the longest chain (the latest of those)."""
    return max(checkpoints, key=lambda c: (c.seq, c.time), default=None)
