"""Complaint: a public complaint from the LAPOR!-style system."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from auth.policy import ReachedAs, RowAccess
from connectors.records import ComplaintRecord, ComplaintVisibility as Visibility
from schema.access import allows
from schema.errors import Forbidden
from schema.types.labels import StatusLabel, label_of
from schema.types.common import (
    ComplaintChannel,
    ComplaintClassification,
    ComplaintStatus,
    ComplaintVisibility,
    Disposition,
    FollowUp,
    Kelurahan,
    StatusEvent,
)

from schema.context import Context

if TYPE_CHECKING:
    from schema.types.citizen import Citizen


def reporter_visible_to(record: ComplaintRecord, nik: str | None) -> bool:
    """A confidential or anonymous complaint never reveals its reporter but to the reporter."""
    return record.visibility is Visibility.PUBLIC or (
        nik is not None and nik == record.reporter_nik
    )


@strawberry.type(description="A complaint, aspiration or information request (LAPOR!-style).")
class Complaint:
    number: str
    title: str | None
    content: str | None
    classification: ComplaintClassification | None
    category: str | None
    kelurahan: Kelurahan | None
    location: str | None
    channel: ComplaintChannel | None
    visibility: ComplaintVisibility | None
    submitted_at: datetime | None
    status: ComplaintStatus | None
    status_label: StatusLabel | None = strawberry.field(description="The status in plain words.")
    source_status: str | None = strawberry.field(description="The complaint system's own status code.")
    reporter_nik: str | None
    record: strawberry.Private[ComplaintRecord]
    row: strawberry.Private[RowAccess]

    # the lists are built only when asked for (see Application)
    @strawberry.field(description="Where the complaint was sent, in order.")
    def dispositions(self) -> list[Disposition] | None:
        if not allows(self.row, "dispositions"):
            return None
        return [Disposition(to_unit=d.to_unit, at=d.at, note=d.note) for d in self.record.dispositions]

    @strawberry.field(description="What the units answered, in order.")
    def follow_ups(self) -> list[FollowUp] | None:
        if not allows(self.row, "followUps"):
            return None
        return [FollowUp(unit=f.unit, at=f.at, content=f.content) for f in self.record.follow_ups]

    @strawberry.field(description="The workflow so far, oldest first.")
    def history(self) -> list[StatusEvent] | None:
        if not allows(self.row, "history"):
            return None
        return [StatusEvent.of(change) for change in self.record.history]

    @strawberry.field(description="The reporter; null for confidential and anonymous "
                      "complaints except to the reporter.")
    async def reporter(
        self, info: Info[Context, None]
    ) -> Annotated[Citizen, strawberry.lazy("schema.types.citizen")] | None:
        from schema.types.citizen import Citizen

        ctx = info.context
        nik = self.record.reporter_nik
        if nik is None or not allows(self.row, "reporter"):
            return None
        if not reporter_visible_to(self.record, ctx.principal.nik):
            return None
        record = await ctx.loaders.citizen.load(nik)
        if record is None:
            return None
        citizen = Citizen.of(
            record, ctx, reached_as=ReachedAs.REPORTER, visibility=self.record.visibility.value
        )
        if citizen is None:
            raise Forbidden("this reporter's record is not yours to see")
        return citizen

    @classmethod
    def values(cls, record: ComplaintRecord, ctx: Context) -> dict[str, object]:
        shown_nik = record.reporter_nik if reporter_visible_to(record, ctx.principal.nik) else None
        return {
            "number": record.number,
            "title": record.title,
            "content": record.content,
            "classification": record.classification,
            "category": record.category,
            "kelurahan": Kelurahan.of(ctx.env.region.kelurahan_named(record.kelurahan_code)),
            "location": record.location,
            "channel": record.channel,
            "visibility": record.visibility,
            "submitted_at": record.submitted_at,
            "status": record.status,
            "status_label": label_of(record.status),
            "source_status": record.source_status,
            "reporter_nik": shown_nik,
        }

    @classmethod
    def facts(cls, record: ComplaintRecord) -> dict[str, Any]:
        """What the policy's row rules read of a complaint."""
        return {
            "reporter_nik": record.reporter_nik,
            "kelurahan_code": record.kelurahan_code,
            "visibility": record.visibility.value,
        }

    @classmethod
    def of(
        cls, record: ComplaintRecord, ctx: Context, *, reached_as: ReachedAs = ReachedAs.ROOT
    ) -> Complaint | None:
        """The complaint as the caller may see it, or None when the row is not theirs
        (or not part of the case in force: `schema.cases`)."""
        case = ctx.checked_case
        if case is not None and not case.covers("Complaint", record.number):
            return None
        shaped = ctx.presenter.shape("Complaint", cls.facts(record), cls.values(record, ctx), reached_as=reached_as)
        if shaped is None:
            return None
        if shaped.values["reporter_nik"] is not None:
            ctx.record_access("Complaint", record.reporter_nik, shaped.row)
        ctx.trace.shown(record)
        return cls(record=record, row=shaped.row, **shaped.values)
