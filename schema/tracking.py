"""Tracking by number: the public's view of one application or complaint."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from auth.policy import ReachedAs
from schema.context import Context
from schema.errors import BadUserInput
from schema.types.application import Application
from schema.types.complaint import Complaint

MAX_NUMBER_LENGTH = 64


def checked_number(value: str, *, argument: str = "number") -> str:
    if not value or len(value) > MAX_NUMBER_LENGTH or not value.isprintable():
        raise BadUserInput(f"`{argument}` is not a record number", extra={"argument": argument})
    return value


@strawberry.type
class TrackingQuery:
    @strawberry.field(description="Where an application stands, by its number; no personal data.")
    async def track_application(self, info: Info[Context, None], number: str) -> Application | None:
        ctx = info.context
        record = await ctx.loaders.application.load(checked_number(number))
        if record is None:
            return None
        return Application.of(record, ctx, reached_as=ReachedAs.TRACKING)

    @strawberry.field(description="Where a complaint stands, by its ticket number; a confidential "
                      "complaint shows only its progress.")
    async def track_complaint(self, info: Info[Context, None], number: str) -> Complaint | None:
        ctx = info.context
        record = await ctx.loaders.complaint.load(checked_number(number))
        if record is None:
            return None
        return Complaint.of(record, ctx, reached_as=ReachedAs.TRACKING)
