"""Tracking by number: the public's view of one application or complaint. Each look-up
counts against the caller's tracking limit (numbers must not be enumerable at speed)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from auth.policy import ReachedAs
from schema.cases import require_in_case
from schema.context import Context
from schema.inputs import checked_number
from schema.quota import TRACKING, spend
from schema.types.application import Application
from schema.types.complaint import Complaint

@strawberry.type
class TrackingQuery:
    @strawberry.field(description="Where an application stands, by its number; no personal data.")
    async def track_application(self, info: Info[Context, None], number: str) -> Application | None:
        ctx = info.context
        await spend(ctx, TRACKING, what="tracking look-ups")
        number = checked_number(number)
        require_in_case(ctx, "Application", number, "application")
        record = await ctx.loaders.application.load(number)
        if record is None:
            return None
        return Application.of(record, ctx, reached_as=ReachedAs.TRACKING)

    @strawberry.field(description="Where a complaint stands, by its ticket number; a confidential "
                      "complaint shows only its progress.")
    async def track_complaint(self, info: Info[Context, None], number: str) -> Complaint | None:
        ctx = info.context
        await spend(ctx, TRACKING, what="tracking look-ups")
        number = checked_number(number)
        require_in_case(ctx, "Complaint", number, "complaint")
        record = await ctx.loaders.complaint.load(number)
        if record is None:
            return None
        return Complaint.of(record, ctx, reached_as=ReachedAs.TRACKING)
