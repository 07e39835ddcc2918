"""Small GraphQL types shared by the record types, and the enums of the domain."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

import strawberry

from connectors import records as r
from schema.region import KelurahanInfo
from schema.types.labels import StatusLabel, label_of

if TYPE_CHECKING:
    from schema.intake.types import PermitRequirementType

Sex = strawberry.enum(r.Sex, name="Sex")
Religion = strawberry.enum(r.Religion, name="Religion")
MaritalStatus = strawberry.enum(r.MaritalStatus, name="MaritalStatus")
FamilyRelationship = strawberry.enum(r.FamilyRelationship, name="FamilyRelationship")
ApplicantKind = strawberry.enum(r.ApplicantKind, name="ApplicantKind")
RequestKind = strawberry.enum(r.RequestKind, name="RequestKind")
ApplicationStatus = strawberry.enum(r.ApplicationStatus, name="ApplicationStatus")
ComplaintStatus = strawberry.enum(r.ComplaintStatus, name="ComplaintStatus")
ComplaintClassification = strawberry.enum(
    r.ComplaintClassification, name="ComplaintClassification"
)
ComplaintVisibility = strawberry.enum(r.ComplaintVisibility, name="ComplaintVisibility")
ComplaintChannel = strawberry.enum(r.ComplaintChannel, name="ComplaintChannel")


@strawberry.type(description="A kelurahan (urban village) of the region.")
class Kelurahan:
    code: str
    name: str
    kecamatan: str

    @classmethod
    def of(cls, info: KelurahanInfo) -> Kelurahan:
        """The kelurahan's object; one per kelurahan, shared by every record in it (a
        plain value nobody changes), so a page of citizens does not build one each."""
        return _kelurahan(cls, info)


@lru_cache(maxsize=4096)
def _kelurahan(cls: type[Kelurahan], info: KelurahanInfo) -> Kelurahan:
    return cls(code=info.code, name=info.name, kecamatan=info.kecamatan)


@strawberry.type
class PermitType:
    code: str
    name: str
    service_level_days: int = strawberry.field(
        description="Service-level time in working days, counted from a complete file."
    )

    @strawberry.field(description="The documents an applicant uploads, as the licensing system defines them.")
    async def requirements(
        self, info: strawberry.Info
    ) -> list[Annotated[PermitRequirementType, strawberry.lazy("schema.intake.types")]]:
        from schema.intake.fields import requirements_of

        return await requirements_of(info.context, self.code)  # type: ignore[return-value]

    @classmethod
    def of(cls, record: r.PermitType) -> PermitType:
        return cls(code=record.code, name=record.name, service_level_days=record.service_level_days)


@strawberry.type
class Requirement:
    name: str
    fulfilled: bool
    code: str | None = strawberry.field(default=None, description="`PermitRequirement.code`, where the source "
                                        "gives one (the name of the document to send).")
    requested: bool = strawberry.field(default=False, description="An officer asked for this document: the "
                                       "file is incomplete until it is sent (`completeApplication`).")


@strawberry.type(description="One step of a workflow; `status` is the hub's name, "
                 "`sourceStatus` the source system's own code.")
class StatusEvent:
    status: str
    status_label: StatusLabel
    source_status: str
    at: datetime
    note: str | None

    @classmethod
    def of(cls, change: r.StatusChange) -> StatusEvent:
        return cls(
            status=change.status.value,
            status_label=label_of(change.status),
            source_status=change.source_status,
            at=change.at,
            note=change.note,
        )


@strawberry.type
class Disposition:
    to_unit: str
    at: datetime
    note: str | None


@strawberry.type
class FollowUp:
    unit: str
    at: datetime
    content: str


N = TypeVar("N")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[N]):
    node: N
    window: strawberry.Private[Any]  # the page (schema.pagination.Window) the node came from
    index: strawberry.Private[int]

    @strawberry.field(description="Resume after this node with `after: cursor`.")
    def cursor(self) -> str:
        return self.window.cursor(self.index)  # type: ignore[no-any-return]


@strawberry.type
class Connection(Generic[N]):
    edges: list[Edge[N]]
    page_info: PageInfo
    total_count: int | None = strawberry.field(
        description="Number of matching records; computed only when selected."
    )
