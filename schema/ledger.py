"""Reading the access ledger: auditors see all of it (NIKs masked), citizens see the
accesses to their own data, never the officers' identities."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from auth.ledger import LedgerEntry
from auth.masks import in_text, nik as mask_nik
from schema.context import Context
from schema.errors import BadUserInput, Forbidden
from schema.inputs import checked_nik

MAX_ENTRIES = 200


@strawberry.type(description="One access to a citizen's data, as the citizen sees it.")
class AccessLogEntry:
    at: datetime
    department: str | None
    roles: list[str]
    service_account: bool
    purpose: str | None
    case: str | None
    record_type: str
    fields: list[str]
    action: str


@strawberry.type(description="One entry of the tamper-evident access ledger.")
class AccessLedgerEntry:
    seq: int
    at: datetime
    subject: str = strawberry.field(description="Who read; a subject that is a NIK is masked.")
    roles: list[str]
    client_id: str | None
    department: str | None
    purpose: str | None
    case: str | None
    operation_name: str | None
    document_hash: str
    record_type: str
    record_key: str = strawberry.field(description="The record's key; NIKs are masked.")
    fields: list[str]
    masked_fields: list[str]
    action: str
    detail: str | None
    entry_hash: str


def _limit(first: int) -> int:
    if not 1 <= first <= MAX_ENTRIES:
        raise BadUserInput(f"`first` must be between 1 and {MAX_ENTRIES}")
    return first


def _masked_key(key: str) -> str:
    return mask_nik(key) or key if len(key) == 16 and key.isdigit() else key


async def _read(ctx: Context, **filters: object) -> list[LedgerEntry]:
    reader = ctx.env.ledger_reader
    if reader is None:
        raise Forbidden("this hub has no access ledger to read")
    return await reader(**filters)


@strawberry.type
class LedgerQuery:
    @strawberry.field(description="Who looked at my data, when and why; newest first.")
    async def my_access_log(
        self, info: Info[Context, None], first: int = 50, before_seq: int | None = None
    ) -> list[AccessLogEntry]:
        ctx = info.context
        if not ctx.principal.nik:
            raise Forbidden("only a citizen (a token with a `nik` claim) has an access log")
        entries = await _read(ctx, record_key=ctx.principal.nik, limit=_limit(first), after_seq=before_seq)
        return [
            AccessLogEntry(
                at=e.time,
                department=e.department,
                roles=list(e.roles),
                service_account=e.client_id is not None,
                purpose=e.purpose,
                case=e.case,
                record_type=e.record_type,
                fields=list(e.fields),
                action=e.action,
            )
            for e in entries
        ]

    @strawberry.field(description="The access ledger, newest first, filtered.")
    async def access_ledger(
        self,
        info: Info[Context, None],
        first: int = 50,
        before_seq: int | None = None,
        subject: str | None = None,
        record_key: str | None = None,
        purpose: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[AccessLedgerEntry]:
        ctx = info.context
        for value, name in ((subject, "subject"), (purpose, "purpose")):
            if value is not None and (not value or len(value) > 128):
                raise BadUserInput(f"`{name}` must be 1-128 characters")
        for moment, name in ((since, "since"), (until, "until")):
            if moment is not None and moment.tzinfo is None:
                raise BadUserInput(f"`{name}` needs a time zone offset")
        entries = await _read(
            ctx,
            subject=subject,
            record_key=checked_nik(record_key, argument="recordKey") if record_key else None,
            purpose=purpose,
            since=since,
            until=until,
            limit=_limit(first),
            after_seq=before_seq,
        )
        return [
            AccessLedgerEntry(
                seq=e.seq,
                at=e.time,
                subject=_masked_key(e.subject),  # a citizen's subject may be its NIK
                roles=list(e.roles),
                client_id=e.client_id,
                department=e.department,
                purpose=e.purpose,
                case=e.case,
                operation_name=e.operation_name,
                document_hash=e.document_hash,
                record_type=e.record_type,
                record_key=_masked_key(e.record_key),
                fields=list(e.fields),
                masked_fields=list(e.masked_fields),
                action=e.action,
                detail=in_text(e.detail) if e.detail else None,
                entry_hash=e.entry_hash,
            )
            for e in entries
        ]
