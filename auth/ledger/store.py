"""Appending a request's entries to the chain: one transaction, durable, fail closed.

`append` validates the drafts, takes the chain head (see `auth.ledger.transactions`),
stamps each draft with the time, the next seq and the hashes, inserts them in one
executemany, moves the head and commits. Only then does it return; any failure on the
way raises `LedgerUnavailable` and leaves nothing behind, so the caller sends no
personal data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.ledger.chain import PER_ENTRY_COLUMNS, EntryTemplate, format_time, link_hash
from auth.ledger.errors import InvalidLedgerDraft, LedgerError, LedgerUnavailable
from auth.ledger.model import (
    ACTIONS,
    ENTRY_COLUMNS,
    HASHED_COLUMNS,
    LedgerDraft,
    LedgerEntry,
)
from auth.ledger.tables import ledger_entries
from auth.ledger.transactions import lock_head, move_head, write_transaction

Clock = Callable[[], datetime]

_REQUIRED = ("request_id", "subject", "document_hash", "record_type", "record_key")
_LIMITS: dict[str, int] = {
    column.name: column.type.length
    for column in ledger_entries.columns
    if isinstance(column.type, String) and column.type.length is not None
}


def utc_now() -> datetime:
    return datetime.now(UTC)


async def append(
    engine: AsyncEngine, entries: Sequence[LedgerDraft], *, clock: Clock = utc_now
) -> list[LedgerEntry]:
    """Write one request's entries, chained to the current head, and commit them.

    Returns the stored entries in chain order. Raises `LedgerUnavailable` (nothing
    written) if the store cannot be reached or the transaction fails, and
    `InvalidLedgerDraft` (a `LedgerUnavailable`) for a malformed draft.
    """
    drafts = check_drafts(entries)
    if not drafts:
        return []
    return await write_checked(engine, drafts, clock=clock)


def check_drafts(entries: Sequence[LedgerDraft]) -> list[LedgerDraft]:
    """Validated drafts with their collections sorted; raises `InvalidLedgerDraft`.

    A request's drafts share their request-level values and collections, as the same
    objects. A draft whose request-level values and collections are the very objects of
    the last draft checked in full is checked for its own values only, those having
    passed with that draft."""
    checked: list[LedgerDraft] = []
    anchor: LedgerDraft | None = None  # the last draft checked in full
    collections: tuple[tuple[str, ...], ...] | None = None  # its sorted ones, if they were not
    for draft in entries:
        if anchor is not None and type(draft) is LedgerDraft and _shares_request(draft, anchor):
            _check_own(draft)
            checked.append(draft if collections is None else _with_collections(draft, *collections))
            continue
        result = _checked(draft)
        anchor = draft
        collections = None if result is draft else (result.roles, result.fields, result.masked_fields)  # type: ignore[assignment]
        checked.append(result)
    return checked


def _shares_request(draft: LedgerDraft, anchor: LedgerDraft) -> bool:
    return (
        draft.request_id is anchor.request_id and draft.subject is anchor.subject
        and draft.purpose is anchor.purpose and draft.document_hash is anchor.document_hash
        and draft.client_id is anchor.client_id and draft.case is anchor.case
        and draft.operation_name is anchor.operation_name and draft.department is anchor.department
        and draft.roles is anchor.roles and draft.fields is anchor.fields
        and draft.masked_fields is anchor.masked_fields
    )


async def write_checked(
    engine: AsyncEngine, drafts: Sequence[LedgerDraft], *, clock: Clock = utc_now
) -> list[LedgerEntry]:
    """The transaction behind `append`, for drafts that passed `check_drafts`."""
    try:
        async with write_transaction(engine) as conn:
            head_seq, head_hash = await lock_head(conn)
            chained = chain(drafts, head_seq=head_seq, head_hash=head_hash, now=clock())
            await conn.execute(
                ledger_entries.insert(), [_row(entry) for entry in chained]
            )
            await move_head(
                conn, seq=chained[-1].seq, entry_hash=chained[-1].entry_hash
            )
    except LedgerError:
        raise
    except Exception as exc:
        raise LedgerUnavailable(
            f"the access ledger could not be written: {exc.__class__.__name__}"
        ) from exc
    return chained


def chain(
    drafts: Sequence[LedgerDraft], *, head_seq: int, head_hash: str, now: datetime
) -> list[LedgerEntry]:
    """Turn checked drafts (collections already sorted) into entries after the head."""
    entries: list[LedgerEntry] = []
    add = entries.append
    prev_hash = head_hash
    now_utc = now.astimezone(UTC)
    now_text = format_time(now_utc)  # most drafts carry no time of their own: format once
    shared: tuple[object, ...] = ()
    template: EntryTemplate | None = None
    for seq, draft in enumerate(drafts, start=head_seq + 1):
        time = now_utc if draft.time is None else draft.time.astimezone(UTC)
        roles, fields, masked = tuple(draft.roles), tuple(draft.fields), tuple(draft.masked_fields)
        values = (  # every hashed column but the per-entry ones, in `_SHARED_HASHED` order
            draft.action, draft.case, draft.client_id, draft.department, draft.detail,
            draft.document_hash, fields, masked, draft.operation_name, draft.purpose,
            draft.record_type, draft.request_id, roles, draft.subject,
            now_text if time is now_utc else format_time(time),
        )
        if template is None or values != shared:  # a request's drafts mostly share them
            shared, template = values, EntryTemplate(dict(zip(_SHARED_HASHED, values, strict=True)))
        digest = link_hash(prev_hash, template.canonical(prev_hash, draft.record_key, seq))
        add(LedgerEntry(
            seq=seq, time=time, request_id=draft.request_id, subject=draft.subject, roles=roles,
            client_id=draft.client_id, purpose=draft.purpose, case=draft.case, operation_name=draft.operation_name,
            document_hash=draft.document_hash, record_type=draft.record_type, record_key=draft.record_key,
            fields=fields, masked_fields=masked, action=draft.action, detail=draft.detail,
            department=draft.department, prev_hash=prev_hash, entry_hash=digest,
        ))
        prev_hash = digest
    return entries


_SHARED_HASHED = ("action", "case", "client_id", "department", "detail", "document_hash", "fields",
                  "masked_fields", "operation_name", "purpose", "record_type", "request_id", "roles",
                  "subject", "time")
if set(_SHARED_HASHED) | set(PER_ENTRY_COLUMNS) != set(HASHED_COLUMNS):  # a new column needs its place
    raise ImportError("auth.ledger.store: `chain` does not hash every column of LedgerEntry")


class _BadCollection(Exception):
    """A collection that is not strings; `_checked` names the field."""


@lru_cache(maxsize=4096)
def _collection(values: tuple[str, ...] | frozenset[str]) -> tuple[str, ...]:
    """The collection sorted and de-duplicated, every value a non-empty string.
    Requests repeat the same few collections (one principal's roles, one selection's
    fields), so the answers are memoised."""
    try:
        result = tuple(sorted(set(values)))
    except TypeError as exc:  # values that do not hash or compare
        raise _BadCollection from exc
    if not all(isinstance(v, str) and v for v in result):
        raise _BadCollection
    return result


def _sorted_collection(name: str, values: Iterable[str]) -> tuple[str, ...]:
    if isinstance(values, str | bytes):
        raise InvalidLedgerDraft(f"ledger draft {name} must be a collection of strings")
    try:
        return _collection(values if isinstance(values, tuple | frozenset) else tuple(values))
    except (_BadCollection, TypeError) as exc:  # TypeError: not iterable, or unhashable values
        raise InvalidLedgerDraft(f"ledger draft {name} must be a collection of non-empty strings") from exc


#: The columns every draft of one request shares: checked once per distinct combination.
_SHARED = ("request_id", "subject", "purpose", "document_hash", "client_id", "case", "operation_name", "department")
_OWN_LIMITS = tuple(
    (name, limit) for name, limit in _LIMITS.items()
    if name not in _SHARED and name in LedgerDraft.__dataclass_fields__
)


@lru_cache(maxsize=1024)
def _check_shared(values: tuple[object, ...]) -> None:
    """Raises `InvalidLedgerDraft` for a missing or over-long request-level value;
    memoised, so the drafts of one request are checked once."""
    for name, value in zip(_SHARED, values, strict=True):
        if name in _REQUIRED and (not isinstance(value, str) or not value):
            raise InvalidLedgerDraft(f"ledger draft needs a non-empty {name}")
        limit = _LIMITS.get(name)
        if limit is not None and isinstance(value, str) and len(value) > limit:
            raise InvalidLedgerDraft(f"ledger draft {name} is longer than {limit} characters")


def _collections(roles: Iterable[str], fields: Iterable[str], masked: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    """The three collections checked and sorted; a request's drafts share them, so the
    answer for one combination is memoised (when the collections are hashable)."""
    try:
        return _checked_collections(roles, fields, masked)  # type: ignore[arg-type]
    except TypeError:  # a list or other unhashable collection: check it afresh
        return _check_collections(roles, fields, masked)


def _check_collections(roles: Iterable[str], fields: Iterable[str], masked: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    checked = (
        _sorted_collection("roles", roles),
        _sorted_collection("fields", fields),
        _sorted_collection("masked_fields", masked),
    )
    if checked[2] and not set(checked[2]) <= set(checked[1]):
        raise InvalidLedgerDraft("masked_fields must be a subset of fields")
    return checked


_checked_collections = lru_cache(maxsize=4096)(_check_collections)


def _row(entry: LedgerEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in ENTRY_COLUMNS}


def _same(checked: tuple[str, ...], given: Iterable[str]) -> bool:
    return type(given) is tuple and given == checked


def _checked(draft: LedgerDraft) -> LedgerDraft:
    """Reject what would break the chain's meaning; a programming error, so fail closed.
    Returns the draft with its collections sorted (the same object when they already are)."""
    if not isinstance(draft, LedgerDraft):
        raise InvalidLedgerDraft(f"expected a LedgerDraft, got {type(draft).__name__}")
    try:
        _check_shared((draft.request_id, draft.subject, draft.purpose, draft.document_hash,
                       draft.client_id, draft.case, draft.operation_name, draft.department))
    except TypeError as exc:  # an unhashable value where a string belongs
        raise InvalidLedgerDraft("ledger draft values must be strings") from exc
    _check_own(draft)
    roles, fields, masked = _collections(draft.roles, draft.fields, draft.masked_fields)
    if _same(roles, draft.roles) and _same(fields, draft.fields) and _same(masked, draft.masked_fields):
        return draft
    return _with_collections(draft, roles, fields, masked)


def _check_own(draft: LedgerDraft) -> None:
    """The values that differ between the drafts of one request: the record, the action,
    the detail, the time."""
    for name in ("record_type", "record_key"):
        value = getattr(draft, name)
        if not isinstance(value, str) or not value:
            raise InvalidLedgerDraft(f"ledger draft needs a non-empty {name}")
    if draft.action not in ACTIONS:
        raise InvalidLedgerDraft(
            f"ledger action must be 'read' or 'write', not {draft.action!r}"
        )
    if draft.time is not None and (
        not isinstance(draft.time, datetime) or draft.time.tzinfo is None
    ):
        raise InvalidLedgerDraft("ledger draft time must be a timezone-aware datetime")
    for name, limit in _OWN_LIMITS:
        value = getattr(draft, name)
        if isinstance(value, str) and len(value) > limit:
            raise InvalidLedgerDraft(
                f"ledger draft {name} is longer than {limit} characters"
            )


def _with_collections(
    draft: LedgerDraft, roles: tuple[str, ...], fields: tuple[str, ...], masked: tuple[str, ...]
) -> LedgerDraft:
    return LedgerDraft(
        request_id=draft.request_id,
        subject=draft.subject,
        roles=roles,
        purpose=draft.purpose,
        document_hash=draft.document_hash,
        record_type=draft.record_type,
        record_key=draft.record_key,
        fields=fields,
        masked_fields=masked,
        action=draft.action,
        detail=draft.detail,
        client_id=draft.client_id,
        case=draft.case,
        operation_name=draft.operation_name,
        department=draft.department,
        time=draft.time,
    )