"""Citizen and Family: the population registry's records as the departments see them."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from auth.policy import ReachedAs, RowAccess
from connectors.records import CitizenRecord, FamilyRelationship as Relationship
from schema.access import allows
from schema.types.common import (
    FamilyRelationship,
    Kelurahan,
    MaritalStatus,
    Religion,
    Sex,
)

from schema.context import Context

if TYPE_CHECKING:
    from schema.types.application import Application
    from schema.types.complaint import Complaint


def age_on(birth_date: date, today: date) -> int:
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


@strawberry.type(
    description="A resident in the population registry. Fields a role may not see are "
    "absent from its schema; masked fields carry the masked value; fields withheld for "
    "one record are null."
)
class Citizen:
    nik: str | None
    family_number: str | None
    full_name: str | None
    birth_place: str | None
    birth_date: str | None = strawberry.field(
        description="ISO date (YYYY-MM-DD), or only the year where the role sees it masked."
    )
    age: int | None
    sex: Sex | None
    blood_type: str | None
    religion: Religion | None
    marital_status: MaritalStatus | None
    family_relationship: FamilyRelationship | None
    education: str | None
    occupation: str | None
    mother_name: str | None
    address: str | None
    rt: str | None
    rw: str | None
    kelurahan: Kelurahan | None
    disability: str | None
    record: strawberry.Private[CitizenRecord]
    row: strawberry.Private[RowAccess]

    @strawberry.field(description="The family card this citizen belongs to.")
    async def family(self, info: Info[Context, None]) -> Family | None:
        if not allows(self.row, "family"):
            return None
        ctx = info.context
        case = ctx.checked_case
        if case is not None and not case.covers("Family", self.record.family_number):
            return None  # not worth a look-up: `Family.of` would leave it out
        members = await ctx.loaders.family_members.load(self.record.family_number)
        return Family.of(self.record.family_number, members, ctx) if members else None

    @strawberry.field(description="Permit applications this citizen made, newest first; "
                      "null with SOURCE_UNAVAILABLE when the licensing system is down.")
    async def applications(
        self, info: Info[Context, None]
    ) -> list[Annotated[Application, strawberry.lazy("schema.types.application")]] | None:
        from schema.types.application import Application

        if not allows(self.row, "applications"):
            return None
        ctx = info.context
        records = await ctx.loaders.applications_of.load(self.record.nik)
        shown = (Application.of(record, ctx, reached_as=ReachedAs.OF_CITIZEN) for record in records)
        return [a for a in shown if a is not None]

    @strawberry.field(description="Complaints this citizen reported, newest first; "
                      "null with SOURCE_UNAVAILABLE when the complaint system is down.")
    async def complaints(
        self, info: Info[Context, None]
    ) -> list[Annotated[Complaint, strawberry.lazy("schema.types.complaint")]] | None:
        from schema.types.complaint import Complaint

        if not allows(self.row, "complaints"):
            return None
        ctx = info.context
        records = await ctx.loaders.complaints_of.load(self.record.nik)
        shown = (Complaint.of(record, ctx, reached_as=ReachedAs.OF_CITIZEN) for record in records)
        return [c for c in shown if c is not None]

    @classmethod
    def values(cls, record: CitizenRecord, ctx: Context) -> dict[str, Any]:
        """The record's values by attribute; the two derived ones (the age on the
        request's day, the kelurahan's object) only when the document selects them, as
        nothing else reads them (a 1,000-row listing selects neither)."""
        selected = ctx.selected.get("Citizen")  # None: not known, so everything
        return {
            "nik": record.nik,
            "family_number": record.family_number,
            "full_name": record.full_name,
            "birth_place": record.birth_place,
            "birth_date": record.birth_date.isoformat(),
            "age": age_on(record.birth_date, ctx.today()) if selected is None or "age" in selected else None,
            "sex": record.sex,
            "blood_type": record.blood_type,
            "religion": record.religion,
            "marital_status": record.marital_status,
            "family_relationship": record.family_relationship,
            "education": record.education,
            "occupation": record.occupation,
            "mother_name": record.mother_name,
            "address": record.address,
            "rt": record.rt,
            "rw": record.rw,
            "kelurahan": (
                Kelurahan.of(ctx.env.region.kelurahan_named(record.kelurahan_code))
                if selected is None or "kelurahan" in selected else None
            ),
            "disability": record.disability,
        }

    @classmethod
    def of(
        cls,
        record: CitizenRecord,
        ctx: Context,
        *,
        reached_as: ReachedAs = ReachedAs.ROOT,
        visibility: str | None = None,
    ) -> Citizen | None:
        """The citizen as the caller may see it, or None when the row is not theirs to see
        (or not part of the case in force: `schema.cases`). `visibility` is that of the
        complaint through which a reporter is reached."""
        case = ctx.checked_case
        if case is not None and not case.covers("Citizen", record.nik):
            return None
        facts = {
            "nik": record.nik,
            "kelurahan_code": record.kelurahan_code,
            "family_number": record.family_number,
        }
        if visibility is not None:
            facts["visibility"] = visibility
        shaped = ctx.presenter.shape("Citizen", facts, cls.values(record, ctx), reached_as=reached_as)
        if shaped is None:
            return None
        ctx.record_access("Citizen", record.nik, shaped.row)
        ctx.trace.shown(record)
        return cls(record=record, row=shaped.row, **shaped.values)


@strawberry.type(description="A family card (Kartu Keluarga) and its members.")
class Family:
    number: str | None
    address: str | None
    kelurahan: Kelurahan | None
    records: strawberry.Private[list[CitizenRecord]]
    row: strawberry.Private[RowAccess]
    # each member shaped once, when `head` or `members` first asks for it: a member that
    # is not returned is neither counted in the source trace nor written to the ledger
    shaped: strawberry.Private[dict[str, Citizen | None]]

    @strawberry.field(description="The head of the family, if the caller may see them.")
    def head(self, info: Info[Context, None]) -> Citizen | None:
        if not allows(self.row, "head"):
            return None
        head = next((m for m in self.records if m.family_relationship is Relationship.HEAD), None)
        return None if head is None else self._member(head, info.context)

    @strawberry.field(description="The members the caller may see.")
    def members(self, info: Info[Context, None]) -> list[Citizen]:
        if not allows(self.row, "members"):
            return []
        shown = (self._member(member, info.context) for member in self.records)
        return [citizen for citizen in shown if citizen is not None]

    def _member(self, record: CitizenRecord, ctx: Context) -> Citizen | None:
        if record.nik not in self.shaped:
            self.shaped[record.nik] = Citizen.of(record, ctx, reached_as=ReachedAs.FAMILY_MEMBER)
        return self.shaped[record.nik]

    @classmethod
    def of(
        cls, number: str, members: list[CitizenRecord], ctx: Context, *, reached_as: ReachedAs = ReachedAs.ROOT
    ) -> Family | None:
        """The family as the caller may see it; members the caller may not see are left out.
        None when the caller may not see it (or it is not part of the case in force)."""
        case = ctx.checked_case
        if case is not None and not case.covers("Family", number):
            return None
        first = members[0]
        facts = {"family_number": number, "kelurahan_code": first.kelurahan_code, "nik": None}
        values = {
            "number": number,
            "address": first.address,
            "kelurahan": Kelurahan.of(ctx.env.region.kelurahan_named(first.kelurahan_code)),
        }
        shaped = ctx.presenter.shape("Family", facts, values, reached_as=reached_as)
        if shaped is None:
            return None
        ctx.record_access("Family", number, shaped.row)
        return cls(**shaped.values, records=members, row=shaped.row, shaped={})
