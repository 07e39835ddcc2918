"""Citizen and Family: the population registry's records as the departments see them."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from connectors.records import CitizenRecord
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
    nik: str
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

    @strawberry.field(description="The family card this citizen belongs to.")
    async def family(self, info: Info[Context, None]) -> Family | None:
        ctx = info.context
        members = await ctx.loaders.family_members.load(self.record.family_number)
        return Family.of(self.record.family_number, members, ctx) if members else None

    @strawberry.field(description="Permit applications this citizen made, newest first; "
                      "null with SOURCE_UNAVAILABLE when the licensing system is down.")
    async def applications(
        self, info: Info[Context, None]
    ) -> list[Annotated[Application, strawberry.lazy("schema.types.application")]] | None:
        from schema.types.application import Application

        ctx = info.context
        records = await ctx.loaders.applications_of.load(self.record.nik)
        return [Application.of(record, ctx) for record in records]

    @strawberry.field(description="Complaints this citizen reported, newest first; "
                      "null with SOURCE_UNAVAILABLE when the complaint system is down.")
    async def complaints(
        self, info: Info[Context, None]
    ) -> list[Annotated[Complaint, strawberry.lazy("schema.types.complaint")]] | None:
        from schema.types.complaint import Complaint

        ctx = info.context
        records = await ctx.loaders.complaints_of.load(self.record.nik)
        return [Complaint.of(record, ctx) for record in records]

    @classmethod
    def values(cls, record: CitizenRecord, ctx: Context) -> dict[str, Any]:
        return {
            "nik": record.nik,
            "family_number": record.family_number,
            "full_name": record.full_name,
            "birth_place": record.birth_place,
            "birth_date": record.birth_date.isoformat(),
            "age": age_on(record.birth_date, ctx.env.today()),
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
            "kelurahan": Kelurahan.of(ctx.env.region.kelurahan_named(record.kelurahan_code)),
            "disability": record.disability,
        }

    @classmethod
    def of(cls, record: CitizenRecord, ctx: Context) -> Citizen:
        return cls(record=record, **cls.values(record, ctx))


@strawberry.type(description="A family card (Kartu Keluarga) and its members.")
class Family:
    number: str
    head: Citizen | None
    members: list[Citizen]
    address: str | None
    kelurahan: Kelurahan | None

    @classmethod
    def of(cls, number: str, members: list[CitizenRecord], ctx: Context) -> Family:
        shown = [Citizen.of(member, ctx) for member in members]
        head = next((c for c, m in zip(shown, members) if m.family_relationship.value == "HEAD"), None)
        first = members[0]
        return cls(
            number=number,
            head=head,
            members=shown,
            address=first.address,
            kelurahan=Kelurahan.of(ctx.env.region.kelurahan_named(first.kelurahan_code)),
        )
