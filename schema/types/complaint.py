"""Complaint: a public complaint from the LAPOR!-style system."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from connectors.records import ComplaintRecord, ComplaintVisibility as Visibility
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
    title: str
    content: str | None
    classification: ComplaintClassification
    category: str
    kelurahan: Kelurahan | None
    location: str | None
    channel: ComplaintChannel
    visibility: ComplaintVisibility
    submitted_at: datetime
    status: ComplaintStatus
    source_status: str = strawberry.field(description="The complaint system's own status code.")
    dispositions: list[Disposition]
    follow_ups: list[FollowUp]
    history: list[StatusEvent]
    reporter_nik: str | None
    record: strawberry.Private[ComplaintRecord]

    @strawberry.field(description="The reporter; null for confidential and anonymous "
                      "complaints except to the reporter.")
    async def reporter(
        self, info: Info[Context, None]
    ) -> Annotated[Citizen, strawberry.lazy("schema.types.citizen")] | None:
        from schema.types.citizen import Citizen

        ctx = info.context
        nik = self.record.reporter_nik
        if nik is None or not reporter_visible_to(self.record, ctx.principal.nik):
            return None
        record = await ctx.loaders.citizen.load(nik)
        return Citizen.of(record, ctx) if record is not None else None

    @classmethod
    def of(cls, record: ComplaintRecord, ctx: Context) -> Complaint:
        region = ctx.env.region
        shown_nik = record.reporter_nik if reporter_visible_to(record, ctx.principal.nik) else None
        return cls(
            record=record,
            number=record.number,
            title=record.title,
            content=record.content,
            classification=record.classification,
            category=record.category,
            kelurahan=Kelurahan.of(region.kelurahan_named(record.kelurahan_code)),
            location=record.location,
            channel=record.channel,
            visibility=record.visibility,
            submitted_at=record.submitted_at,
            status=record.status,
            source_status=record.source_status,
            dispositions=[Disposition(to_unit=d.to_unit, at=d.at, note=d.note) for d in record.dispositions],
            follow_ups=[FollowUp(unit=f.unit, at=f.at, content=f.content) for f in record.follow_ups],
            history=[StatusEvent.of(change) for change in record.history],
            reporter_nik=shown_nik,
        )
