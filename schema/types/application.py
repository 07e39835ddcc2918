"""Application: a permit application from the licensing system, with its service level."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from auth.policy import ReachedAs, RowAccess
from connectors.records import APPLICATION_FINISHED, ApplicationRecord
from schema.access import allows
from schema.errors import Forbidden
from connectors.workdays import WorkCalendar
from schema.types.labels import StatusLabel, label_of
from schema.types.common import (
    ApplicantKind,
    ApplicationStatus,
    Kelurahan,
    PermitType,
    Requirement,
    RequestKind,
    StatusEvent,
)

from schema.context import Context

if TYPE_CHECKING:
    from schema.intake.types import Document
    from schema.types.citizen import Citizen


@dataclass(frozen=True, slots=True)
class ServiceLevel:
    due_date: date | None
    overdue: bool | None
    working_days_elapsed: int | None


def service_level(record: ApplicationRecord, calendar: WorkCalendar, today: date) -> ServiceLevel:
    """Due date: the permit type's service level in working days from a complete file."""
    if record.file_complete_at is None:
        return ServiceLevel(None, False, None)
    start = record.file_complete_at.date()
    due = calendar.add_working_days(start, record.permit_type.service_level_days)
    finished = record.status in APPLICATION_FINISHED
    end = record.finished_at.date() if finished and record.finished_at else today
    return ServiceLevel(due, end > due, calendar.working_days_between(start, end))


@strawberry.type(description="A permit application (SiCantik-style permohonan).")
class Application:
    number: str
    applicant_kind: ApplicantKind | None
    applicant_nik: str | None
    applicant_name: str | None
    company_name: str | None
    permit_type: PermitType | None
    request_kind: RequestKind | None
    received_at: datetime | None
    file_complete_at: datetime | None
    kelurahan: Kelurahan | None = strawberry.field(
        description="The applicant's (or the business's) kelurahan."
    )
    business_address: str | None
    status: ApplicationStatus | None
    status_label: StatusLabel | None = strawberry.field(description="The status in plain words.")
    source_status: str | None = strawberry.field(description="The licensing system's own status code.")
    finished_at: datetime | None
    due_date: date | None = strawberry.field(
        description="Last day of the service level, in working days from a complete file."
    )
    overdue: bool | None
    working_days_elapsed: int | None
    record: strawberry.Private[ApplicationRecord]
    row: strawberry.Private[RowAccess]

    # the lists are built only when asked for: a page of 100 applications would
    # otherwise make ~1,300 status events nobody selected
    @strawberry.field(description="What the file must contain, and whether it does.")
    def requirements(self) -> list[Requirement] | None:
        if not allows(self.row, "requirements"):
            return None
        return [Requirement(name=q.name, fulfilled=q.fulfilled, code=q.code, requested=q.requested)
                for q in self.record.requirements]

    @strawberry.field(description="The workflow so far, oldest first.")
    def history(self) -> list[StatusEvent] | None:
        if not allows(self.row, "history"):
            return None
        return [StatusEvent.of(change) for change in self.record.history]

    @strawberry.field(description="The documents uploaded for this application, each with a download link for "
                      "the caller alone; null where the policy hides them.")
    async def documents(
        self, info: Info[Context, None]
    ) -> list[Annotated[Document, strawberry.lazy("schema.intake.types")]] | None:
        from schema.intake.fields import documents_of

        return await documents_of(self, info.context)  # type: ignore[return-value]

    @strawberry.field(description="The applicant as recorded in the population registry.")
    async def applicant(
        self, info: Info[Context, None]
    ) -> Annotated[Citizen, strawberry.lazy("schema.types.citizen")] | None:
        from schema.types.citizen import Citizen

        if self.record.applicant_nik is None or not allows(self.row, "applicant"):
            return None
        ctx = info.context
        record = await ctx.loaders.citizen.load(self.record.applicant_nik)
        if record is None:
            return None
        citizen = Citizen.of(record, ctx, reached_as=ReachedAs.APPLICANT)
        if citizen is None:
            raise Forbidden("this applicant's record is not yours to see")
        return citizen

    @classmethod
    def values(cls, record: ApplicationRecord, ctx: Context) -> dict[str, object]:
        env = ctx.env
        level = service_level(record, env.calendar, ctx.today())
        return {
            "number": record.number,
            "applicant_kind": record.applicant_kind,
            "applicant_nik": record.applicant_nik,
            "applicant_name": record.applicant_name,
            "company_name": record.company_name,
            "permit_type": PermitType.of(record.permit_type),
            "request_kind": record.request_kind,
            "received_at": record.received_at,
            "file_complete_at": record.file_complete_at,
            "kelurahan": Kelurahan.of(env.region.kelurahan_named(record.kelurahan_code)),
            "business_address": record.business_address,
            "status": record.status,
            "status_label": label_of(record.status),
            "source_status": record.source_status,
            "finished_at": record.finished_at,
            "due_date": level.due_date,
            "overdue": level.overdue,
            "working_days_elapsed": level.working_days_elapsed,
        }

    @classmethod
    def facts(cls, record: ApplicationRecord) -> dict[str, Any]:
        """What the policy's row rules read of an application."""
        return {"applicant_nik": record.applicant_nik, "kelurahan_code": record.kelurahan_code}

    @classmethod
    def of(
        cls, record: ApplicationRecord, ctx: Context, *, reached_as: ReachedAs = ReachedAs.ROOT
    ) -> Application | None:
        """The application as the caller may see it, or None when the row is not theirs
        (or not part of the case in force: `schema.cases`)."""
        case = ctx.checked_case
        if case is not None and not case.covers("Application", record.number):
            return None
        shaped = ctx.presenter.shape("Application", cls.facts(record), cls.values(record, ctx), reached_as=reached_as)
        if shaped is None:
            return None
        ctx.record_access("Application", record.applicant_nik, shaped.row)
        ctx.trace.shown(record)
        return cls(record=record, row=shaped.row, **shaped.values)
