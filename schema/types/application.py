"""Application: a permit application from the licensing system, with its service level."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from connectors.records import APPLICATION_FINISHED, ApplicationRecord
from connectors.workdays import WorkCalendar
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
    from schema.types.citizen import Citizen


@dataclass(frozen=True, slots=True)
class ServiceLevel:
    due_date: date | None
    overdue: bool
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
    applicant_kind: ApplicantKind
    applicant_nik: str | None
    applicant_name: str | None
    company_name: str | None
    permit_type: PermitType
    request_kind: RequestKind
    received_at: datetime
    file_complete_at: datetime | None
    kelurahan: Kelurahan | None = strawberry.field(
        description="The applicant's (or the business's) kelurahan."
    )
    business_address: str | None
    status: ApplicationStatus
    source_status: str = strawberry.field(description="The licensing system's own status code.")
    requirements: list[Requirement]
    history: list[StatusEvent]
    finished_at: datetime | None
    due_date: date | None = strawberry.field(
        description="Last day of the service level, in working days from a complete file."
    )
    overdue: bool
    working_days_elapsed: int | None
    record: strawberry.Private[ApplicationRecord]

    @strawberry.field(description="The applicant as recorded in the population registry.")
    async def applicant(
        self, info: Info[Context, None]
    ) -> Annotated[Citizen, strawberry.lazy("schema.types.citizen")] | None:
        from schema.types.citizen import Citizen

        if self.record.applicant_nik is None:
            return None
        ctx = info.context
        record = await ctx.loaders.citizen.load(self.record.applicant_nik)
        return Citizen.of(record, ctx) if record is not None else None

    @classmethod
    def of(cls, record: ApplicationRecord, ctx: Context) -> Application:
        env = ctx.env
        level = service_level(record, env.calendar, env.today())
        return cls(
            record=record,
            number=record.number,
            applicant_kind=record.applicant_kind,
            applicant_nik=record.applicant_nik,
            applicant_name=record.applicant_name,
            company_name=record.company_name,
            permit_type=PermitType.of(record.permit_type),
            request_kind=record.request_kind,
            received_at=record.received_at,
            file_complete_at=record.file_complete_at,
            kelurahan=Kelurahan.of(env.region.kelurahan_named(record.kelurahan_code)),
            business_address=record.business_address,
            status=record.status,
            source_status=record.source_status,
            requirements=[Requirement(name=q.name, fulfilled=q.fulfilled) for q in record.requirements],
            history=[StatusEvent.of(change) for change in record.history],
            finished_at=record.finished_at,
            due_date=level.due_date,
            overdue=level.overdue,
            working_days_elapsed=level.working_days_elapsed,
        )
