"""Writes that reach the sources: status updates and complaint submission.

Every status change is recorded in the access ledger (action `write`, the change in
`detail`) under the caller's declared purpose; where that purpose is bound to a case,
the record changed must be that case (`schema.cases`), checked before the source is
asked to change anything. Writes carry an idempotency key to the source, so a retried
request changes nothing twice. A status change the source refuses is answered in the
hub's enum names, with the statuses the record may move to next (`schema.transitions`).
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from auth.policy import ReachedAs
from connectors import records as r
from connectors.errors import SourceRejected
from connectors.protocols import ComplaintSource, LicensingSource
from schema.cases import enter_case, require_in_case
from schema.context import Context
from schema.errors import BadUserInput, Forbidden, PurposeRequired
from schema.inputs import checked_nik, checked_number
from schema.quota import SUBMIT_COMPLAINT, spend
from schema.transitions import refused_change
from schema.types.application import Application
from schema.types.common import (
    ApplicationStatus,
    ComplaintChannel,
    ComplaintClassification,
    ComplaintStatus,
    ComplaintVisibility,
)
from schema.types.complaint import Complaint

MAX_NOTE = 1000
MAX_KEY = 128


async def require_declared_purpose(ctx: Context, type_name: str, number: str) -> None:
    """The caller's purpose, and its case where it has one, which must be the record to
    change (looked up once per request: `enter_case` may have run already)."""
    decision = ctx.env.access.purposes.check(ctx.principal, ctx.purpose, ctx.case)
    if not decision.allowed:
        raise PurposeRequired(f"A status change needs a declared purpose: {decision.reason}")
    await enter_case(ctx, decision)
    require_in_case(ctx, type_name, number, type_name.lower())


def _key(value: str | None) -> str | None:
    if value is not None and (not value or len(value) > MAX_KEY or not value.isprintable()):
        raise BadUserInput(f"`idempotencyKey` must be 1-{MAX_KEY} printable characters")
    return value


def checked_text(value: str | None, *, argument: str, maximum: int) -> str | None:
    if value is not None and len(value) > maximum:
        raise BadUserInput(f"`{argument}` may be at most {maximum} characters")
    return value


async def _update_status(
    ctx: Context,
    source: LicensingSource | ComplaintSource,
    shown_as: type[Application] | type[Complaint],
    number: str,
    status: r.ApplicationStatus | r.ComplaintStatus,
    note: str | None,
    idempotency_key: str | None,
) -> Any:
    """One status change at the source, recorded in the ledger as a write."""
    type_name = shown_as.__name__
    number = checked_number(number)
    await require_declared_purpose(ctx, type_name, number)
    try:
        with ctx.trace.measure(source.source_id, "update_status") as measurement:
            record = await source.update_status(
                number,
                status,  # type: ignore[arg-type]
                note=checked_text(note, argument="note", maximum=MAX_NOTE),
                actor=ctx.principal.subject,
                idempotency_key=_key(idempotency_key),
            )
            measurement.fetched((record,))
    except SourceRejected as exc:  # told in the hub's words, not the source's
        raise await refused_change(ctx, source, shown_as, number, status) from exc
    ctx.note(type_name, record.number, {"status"}, action="write", detail=f"status={status.value}")
    shown = shown_as.of(record, ctx)  # type: ignore[arg-type]
    if shown is None:
        raise Forbidden(f"the updated {type_name.lower()} is not yours to see")
    return shown


@strawberry.input
class ComplaintInput:
    title: str
    content: str
    classification: ComplaintClassification
    category: str
    kelurahan: str
    location: str | None = None
    channel: ComplaintChannel = ComplaintChannel.WEBSITE
    visibility: ComplaintVisibility = ComplaintVisibility.PUBLIC


@strawberry.type
class CoreMutation:
    @strawberry.mutation(description="Moves an application along its workflow.")
    async def update_application_status(
        self,
        info: Info[Context, None],
        number: str,
        status: ApplicationStatus,
        note: str | None = None,
        idempotency_key: str | None = None,
    ) -> Application:
        ctx = info.context
        return await _update_status(
            ctx, ctx.env.sources.licensing, Application, number, status, note, idempotency_key
        )

    @strawberry.mutation(description="Moves a complaint along its workflow.")
    async def update_complaint_status(
        self,
        info: Info[Context, None],
        number: str,
        status: ComplaintStatus,
        note: str | None = None,
        idempotency_key: str | None = None,
    ) -> Complaint:
        ctx = info.context
        return await _update_status(
            ctx, ctx.env.sources.complaints, Complaint, number, status, note, idempotency_key
        )

    @strawberry.mutation(description="Files a complaint. A signed-in citizen is its reporter; "
                         "anyone else files without a reporter.")
    async def submit_complaint(
        self, info: Info[Context, None], input: ComplaintInput, idempotency_key: str | None = None
    ) -> Complaint:
        ctx = info.context
        await spend(ctx, SUBMIT_COMPLAINT, what="complaints")
        if not 3 <= len(input.title.strip()) <= 200:
            raise BadUserInput("`title` must be 3-200 characters")
        if not 10 <= len(input.content.strip()) <= 5000:
            raise BadUserInput("`content` must be 10-5000 characters")
        if input.kelurahan not in ctx.env.region.kelurahan:
            raise BadUserInput(f"`kelurahan` {input.kelurahan[:20]!r} is not a kelurahan of this region")
        nik = checked_nik(ctx.principal.nik) if ctx.principal.nik else None
        complaints = ctx.env.sources.complaints
        with ctx.trace.measure(complaints.source_id, "submit") as m:
            record = await complaints.submit(
                r.NewComplaint(
                    title=input.title.strip(),
                    content=input.content.strip(),
                    classification=input.classification,
                    category=checked_text(input.category, argument="category", maximum=100) or "",
                    kelurahan_code=input.kelurahan,
                    location=checked_text(input.location, argument="location", maximum=200),
                    channel=input.channel,
                    visibility=input.visibility,
                    reporter_nik=nik,
                ),
                idempotency_key=_key(idempotency_key),
            )
            m.fetched((record,))
        shown = Complaint.of(record, ctx, reached_as=ReachedAs.TRACKING)
        if shown is None:
            raise Forbidden("the complaint was filed but is not yours to see; keep its number")
        return shown
