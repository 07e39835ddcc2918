"""Walking the chain: does every entry still carry the hash of the one before?

`verify` reads the entries in seq order, a chunk at a time (keyset pagination, one short
read per chunk, so memory stays flat over millions of entries and writers are not held
up), recomputes each hash and checks each link, and stops at the first broken entry:

    altered    the entry's content no longer matches its hash
    deleted    a seq is missing, or the newest entries are gone (the head remembers them)
    inserted   an entry that the chain never linked (a forged entry, or one past the head)
    reordered  an entry linked to another entry than the one stored before it
    checkpoint a retention checkpoint whose signature or hash does not hold

The walk starts from the newest retention checkpoint (or 64 zeros) and ends at the head
read when it began; entries appended meanwhile are left for the next walk. A writer who
may rewrite the whole table and the head row can rebuild a consistent chain (or delete
the newest entries and set the head back); the signed head checkpoints kept outside the
store (`auth.ledger.anchors`) are what detect that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from sqlalchemy import Text, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.ledger.chain import canonical_bytes, checkpoint_bytes, format_time, link_hash
from auth.ledger.errors import InvalidLedgerQuery, LedgerUnavailable
from auth.ledger.model import GENESIS_HASH, HASHED_COLUMNS, Checkpoint
from auth.ledger.tables import ledger_checkpoints, ledger_entries, ledger_head
from auth.ledger.transactions import prepare_engine, read_head

Problem = Literal["altered", "deleted", "inserted", "reordered", "checkpoint"]
Verifier = Callable[[bytes, str], bool]

# The walk hashes what is stored, not what it decodes to: the JSON arrays are embedded as
# stored (orjson.Fragment) and SQLite's time text as it is, so a stored value that is not
# in canonical form fails the check too. PostgreSQL hands times back as datetimes.
_RAW = ("time", "roles", "fields", "masked_fields")
_SELECT = select(
    *(
        type_coerce(ledger_entries.c[name], Text).label(name)
        if name in _RAW
        else ledger_entries.c[name]
        for name in HASHED_COLUMNS
    ),
    ledger_entries.c.entry_hash,
).order_by(ledger_entries.c.seq)


def _stored_hash(row: Any) -> str:
    """The hash the row's stored values chain to; "" if they cannot even be encoded."""
    values = row._asdict()
    try:
        moment = values["time"]
        values["time"] = moment if isinstance(moment, str) else format_time(moment)
        for name in _RAW[1:]:
            values[name] = orjson.Fragment(values[name])
        return link_hash(row.prev_hash, canonical_bytes(values))
    except (TypeError, ValueError, AttributeError, orjson.JSONEncodeError):
        return ""


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    entries: int  # entries checked (hash and link) before the walk ended
    first_seq: int | None  # the first seq the walk expected (checkpoint + 1)
    head_seq: int  # the head the walk went up to
    problem: Problem | None = None
    broken_seq: int | None = None
    detail: str = ""
    checkpoint: Checkpoint | None = None
    checkpoint_signature_checked: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "first_seq": self.first_seq,
            "head_seq": self.head_seq,
            "problem": self.problem,
            "broken_seq": self.broken_seq,
            "detail": self.detail,
            "checkpoint_seq": None
            if self.checkpoint is None
            else self.checkpoint.last_seq,
            "checkpoint_signature_checked": self.checkpoint_signature_checked,
        }


class _Broken(Exception):
    def __init__(self, problem: Problem, seq: int | None, detail: str) -> None:
        super().__init__(detail)
        self.problem, self.seq, self.detail = problem, seq, detail


async def verify(
    engine: AsyncEngine, *, verifier: Verifier | None = None, chunk_size: int = 5_000
) -> VerifyResult:
    """Walk the whole chain; `verifier(payload, signature)` also checks checkpoints.

    Raises `LedgerUnavailable` when the store cannot be read (not a verdict on the chain).
    """
    if (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, int)
        or chunk_size < 1
    ):
        raise InvalidLedgerQuery("chunk_size must be a positive integer")
    prepare_engine(engine)
    try:
        async with engine.connect() as conn:
            head_seq, head_hash = await read_head(conn)
            checkpoints = [
                _checkpoint(row)
                for row in await conn.execute(
                    select(ledger_checkpoints).order_by(ledger_checkpoints.c.last_seq)
                )
            ]
    except Exception as exc:
        raise LedgerUnavailable(
            f"the access ledger could not be read: {exc.__class__.__name__}"
        ) from exc
    checkpoint = checkpoints[-1] if checkpoints else None
    base_seq, base_hash = (
        (checkpoint.last_seq, checkpoint.last_hash) if checkpoint else (0, GENESIS_HASH)
    )
    walk = _Walk(engine, base_seq=base_seq, base_hash=base_hash)
    try:
        if verifier is not None:
            for each in checkpoints:
                if not _signature_holds(verifier, each):
                    raise _Broken(
                        "checkpoint",
                        each.last_seq,
                        f"checkpoint at seq {each.last_seq} has a bad signature",
                    )
        await walk.run(upto_seq=head_seq, chunk_size=chunk_size)
        await walk.check_head(head_seq=head_seq, head_hash=head_hash)
    except _Broken as broken:
        return VerifyResult(
            ok=False,
            entries=walk.count,
            first_seq=base_seq + 1,
            head_seq=head_seq,
            problem=broken.problem,
            broken_seq=broken.seq,
            detail=broken.detail,
            checkpoint=checkpoint,
            checkpoint_signature_checked=verifier is not None,
        )
    except Exception as exc:
        raise LedgerUnavailable(
            f"the access ledger could not be read: {exc.__class__.__name__}"
        ) from exc
    return VerifyResult(
        ok=True,
        entries=walk.count,
        first_seq=base_seq + 1,
        head_seq=head_seq,
        detail=f"{walk.count} entries verified",
        checkpoint=checkpoint,
        checkpoint_signature_checked=verifier is not None,
    )


async def check_range(
    engine: AsyncEngine,
    *,
    base_seq: int,
    base_hash: str,
    upto_seq: int,
    chunk_size: int = 5_000,
) -> str | None:
    """Check entries base_seq+1..upto_seq; None if sound, else what is wrong (for prune)."""
    walk = _Walk(engine, base_seq=base_seq, base_hash=base_hash)
    try:
        await walk.run(upto_seq=upto_seq, chunk_size=chunk_size)
        if walk.expected != upto_seq + 1:
            raise _Broken(
                "deleted",
                walk.expected,
                f"entries {walk.expected}..{upto_seq} are missing",
            )
    except _Broken as broken:
        return f"{broken.problem} at seq {broken.seq}: {broken.detail}"
    return None


def _signature_holds(verifier: Verifier, checkpoint: Checkpoint) -> bool:
    try:
        return bool(verifier(checkpoint_bytes(checkpoint), checkpoint.signature))
    except Exception:  # noqa: BLE001 - a verifier that cannot check has not verified
        return False


def _checkpoint(row: Any) -> Checkpoint:
    return Checkpoint(
        last_seq=int(row.last_seq),
        last_hash=row.last_hash,
        count=int(row._mapping["count"]),
        time=row.time,
        signature=row.signature,
    )


class _Walk:
    """The state of one walk: the next seq expected and the last two hashes seen."""

    def __init__(self, engine: AsyncEngine, *, base_seq: int, base_hash: str) -> None:
        self.engine = engine
        self.base_seq, self.base_hash = base_seq, base_hash
        self.expected = base_seq + 1
        self.last_hash = base_hash
        self.second_last: str | None = None
        self.count = 0

    async def run(self, *, upto_seq: int, chunk_size: int) -> None:
        after: int | None = None
        while True:
            stmt = _SELECT.where(ledger_entries.c.seq <= upto_seq).limit(chunk_size)
            if after is not None:
                stmt = stmt.where(ledger_entries.c.seq > after)
            async with self.engine.connect() as conn:
                rows = (await conn.execute(stmt)).all()
            for row in rows:
                if not self._follows(row):
                    await self._diagnose(row)
            if len(rows) < chunk_size:
                return
            after = rows[-1].seq

    def _follows(self, row: Any) -> bool:
        """The fast path: the next seq, intact and linked; advances the walk if so."""
        if row.seq != self.expected or row.prev_hash != self.last_hash:
            return False
        if _stored_hash(row) != row.entry_hash:
            return False
        self.second_last, self.last_hash = self.last_hash, row.entry_hash
        self.expected = row.seq + 1
        self.count += 1
        return True

    async def _diagnose(self, row: Any) -> None:
        """Say what is wrong with an entry that does not follow; always raises."""
        seq = row.seq
        if seq < self.expected:
            where = (
                "below the retention checkpoint" if seq <= self.base_seq else "twice"
            )
            raise _Broken("inserted", seq, f"entry {seq} appears {where}")
        if seq > self.expected:
            await self._missing(seq - 1)
        intact = _stored_hash(row) == row.entry_hash
        await self._classify(
            seq, row.prev_hash, intact=intact, linked=row.prev_hash == self.last_hash
        )

    async def _classify(
        self, seq: int, prev_hash: str, *, intact: bool, linked: bool
    ) -> None:
        if linked:
            raise _Broken("altered", seq, f"entry {seq} does not match its hash")
        if seq == self.base_seq + 1 and self.base_seq > 0 and intact:
            raise _Broken(
                "checkpoint",
                self.base_seq,
                f"entry {seq} does not follow the retention checkpoint",
            )
        if prev_hash == self.second_last:
            raise _Broken(
                "inserted",
                seq - 1,
                f"entry {seq - 1} was not in the chain: entry {seq} links past it",
            )
        if (
            prev_hash == self.base_hash
            or await self._find(ledger_entries.c.entry_hash == prev_hash) is not None
        ):
            raise _Broken(
                "reordered",
                seq,
                f"entry {seq} was chained after another entry than {seq - 1}",
            )
        if not intact:
            raise _Broken("altered", seq, f"entry {seq} does not match its hash")
        raise _Broken(  # the successor still names the original: the entry was replaced
            "altered",
            seq - 1,
            f"entry {seq - 1} is not the entry that entry {seq} was chained to (replaced, hash recomputed)",
        )

    async def _missing(self, until: int) -> None:
        """Entries expected..until are not where they should be: moved, or gone."""
        moved = await self._find(ledger_entries.c.prev_hash == self.last_hash)
        if moved is not None:
            raise _Broken(
                "reordered",
                self.expected,
                f"entry {self.expected} is stored at seq {moved}",
            )
        raise _Broken(
            "deleted", self.expected, f"entries {self.expected}..{until} are missing"
        )

    async def _find(self, condition: Any) -> int | None:
        async with self.engine.connect() as conn:
            found = await conn.scalar(
                select(func.min(ledger_entries.c.seq)).where(condition)
            )
        return None if found is None else int(found)

    async def check_head(self, *, head_seq: int, head_hash: str) -> None:
        last_seq = self.expected - 1
        if last_seq < head_seq:
            await self._missing(head_seq)
        if self.last_hash != head_hash:
            raise _Broken(
                "altered",
                last_seq,
                f"entry {last_seq} is not the entry the head recorded",
            )
        async with self.engine.connect() as conn:
            beyond = await conn.scalar(
                select(func.min(ledger_entries.c.seq)).where(
                    ledger_entries.c.seq
                    > select(ledger_head.c.seq)
                    .where(ledger_head.c.id == 1)
                    .scalar_subquery()
                )
            )
            if beyond is None and head_seq == 0:
                beyond = await conn.scalar(
                    select(func.min(ledger_entries.c.seq)).where(
                        ledger_entries.c.seq > 0
                    )
                )
        if beyond is not None:
            raise _Broken(
                "inserted", beyond, f"entry {beyond} lies past the chain head"
            )
