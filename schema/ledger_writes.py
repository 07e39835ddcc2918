"""The request's access-ledger entries: drafted from the records the request noted,
written in one batch at the end of the operation or, when that is safe, started as soon
as the root field has shaped its records, so that the ledger's commit runs while the
rest of the operation waits on the sources or completes the page.

Safe means every personal record of the response is shaped by the one root field:
the operation is a query with a single root field and selects personal fields of a
single type (no family members of a citizen, no applicant of an application). Then the
root field's records are all the request will note, and starting their batch early
changes nothing in what the ledger holds: still one entry per record.

Either way the response waits for every batch (`finish`); if one fails, no data is sent.
The HTTP view waits after it has encoded the response and before it sends it, so the
commit also overlaps the encoding; other callers wait at the end of execution.
A response refused after an early batch was committed (an error in a non-null field,
say) leaves its entries: the ledger may record an access whose answer was then
withheld, never an answer without its entry.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from auth.ledger import LedgerDraft, LedgerUnavailable
from auth.principal import Principal

#: Writes (or starts writing) one request's ledger entries; the awaitable ends once they
#: are durable, or raises.
LedgerWriter = Callable[[Sequence[LedgerDraft]], Awaitable[object]]

#: what a caller is told when the ledger could not be written (code LEDGER_UNAVAILABLE)
LEDGER_REFUSAL = "The access ledger could not be written, so no data is sent; try again later"


class Noted(Protocol):
    fields: frozenset[str]
    masked: frozenset[str]
    action: str
    detail: str | None


@dataclass(slots=True)
class LedgerWrites:
    """The batches of one request; `early` says whether a root field may start one."""

    early: bool = False
    # the HTTP view waits for the batches itself, after encoding the response (which then
    # overlaps the commit) and before sending it; anyone else executing waits in the
    # extension
    waited_by_caller: bool = False
    document_hash: str = ""
    operation_name: str | None = None
    # record -> the fields its written entry holds (a record noted again with more
    # fields after its entry was written gets a second entry, never fewer fields)
    _written: dict[tuple[str, str], tuple[frozenset[str], frozenset[str]]] = field(default_factory=dict)
    _batches: list[asyncio.Future[object]] = field(default_factory=list)

    def describe(self, query: str, operation_name: str | None) -> None:
        self.document_hash = _document_hash(query)
        self.operation_name = operation_name

    def start(self, write: LedgerWriter | None, drafts: list[LedgerDraft],
              accessed: Mapping[tuple[str, str], Noted], keys: list[tuple[str, str]]) -> None:
        """Begin writing `drafts` (the entries of `keys`) in the background."""
        if write is None or not drafts:
            return
        for key in keys:
            noted = accessed[key]
            self._written[key] = (noted.fields, noted.masked)
        try:
            batch = asyncio.ensure_future(write(drafts))  # a writer may have started already
        except Exception as exc:  # refused before anything started (a malformed draft)
            batch = asyncio.get_running_loop().create_future()
            batch.set_exception(exc)
        batch.add_done_callback(_retrieved)
        self._batches.append(batch)

    def unwritten(self, accessed: Mapping[tuple[str, str], Noted]) -> list[tuple[str, str]]:
        written = self._written
        if not written:
            return list(accessed)
        return [key for key, noted in accessed.items() if written.get(key) != (noted.fields, noted.masked)]

    async def finish(self) -> None:
        """Wait for every batch; raises the first failure."""
        batches, self._batches = self._batches, []
        if not batches:
            return
        outcomes = await asyncio.gather(*batches, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):  # batches may be shared by requests: a fresh one
                raise LedgerUnavailable(str(outcome)) from outcome


def drafts_of(
    keys: Sequence[tuple[str, str]],
    accessed: Mapping[tuple[str, str], Noted],
    *,
    principal: Principal,
    request_id: str,
    purpose: str | None,
    case: str | None,
    writes: LedgerWrites,
) -> list[LedgerDraft]:
    roles = _in_order(principal.roles)
    subject, client_id, department = principal.subject, principal.client_id, principal.department
    document_hash, operation_name = writes.document_hash, writes.operation_name
    drafts = []
    for record_type, key in keys:
        noted = accessed[(record_type, key)]
        drafts.append(LedgerDraft(
            request_id=request_id, subject=subject, roles=roles, purpose=purpose, document_hash=document_hash,
            record_type=record_type, record_key=key, fields=_in_order(noted.fields),
            masked_fields=_in_order(noted.masked),
            action=noted.action, detail=noted.detail,  # type: ignore[arg-type]
            client_id=client_id, case=case, operation_name=operation_name, department=department,
        ))
    return drafts


def _retrieved(batch: asyncio.Future[Any]) -> None:
    """A batch nobody awaits (the request was cancelled) must not warn about its error."""
    if not batch.cancelled():
        batch.exception()


@lru_cache(maxsize=256)
def _document_hash(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


@lru_cache(maxsize=1024)
def _in_order(values: frozenset[str]) -> tuple[str, ...]:
    """Sorted, as the ledger stores collections; one tuple per distinct set, so drafts
    of a request share them and the ledger's check passes them through unchanged."""
    return tuple(sorted(values))
