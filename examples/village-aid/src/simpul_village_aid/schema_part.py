"""The GraphQL side of the plug-in: entry point `simpul.schema` → `PLUGIN`.

`aidEnrolments(nik)` lists a citizen's social-assistance enrolments; each
`AidEnrolment` joins the hub's `Citizen` through its declared key, the recipient's NIK
(`recipient`, read through the hub's own loader and shown only as the caller's policy
shows `citizen(nik)`), and the hub's `Kelurahan` through the kelurahan code.

Guarded like the hub's own types: every field of `AidEnrolment` is personal data (a
purpose is required, each enrolment shown is ledgered), `recipientNik` carries a NIK
(the roles' NIK masks follow it), and the policy below grants two roles, with the bank
account hidden from both and a kelurahan officer held to its own kelurahan.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from strawberry.types import Info

from auth.kinds import ValueKind
from auth.policy import ReachedAs, RowAccess
from schema.access import allows
from schema.cases import require_in_case
from schema.context import Context
from schema.inputs import checked_nik
from schema.plugins import SchemaPlugin
from schema.types.citizen import Citizen
from schema.types.common import Kelurahan
from simpul_village_aid.records import EnrolmentRecord, EnrolmentStatus, Programme

SOURCE_ID = "aid"
TYPE = "AidEnrolment"

AidProgramme = strawberry.enum(Programme, name="AidProgramme", description="A social-assistance programme.")
AidStatus = strawberry.enum(EnrolmentStatus, name="AidEnrolmentStatus")


@strawberry.type(description="An enrolment of a citizen in a social-assistance programme (DTKS registry).")
class AidEnrolment:
    number: str | None
    recipient_nik: str | None
    programme: AidProgramme | None  # type: ignore[valid-type]
    status: AidStatus | None  # type: ignore[valid-type]
    monthly_amount: int | None = strawberry.field(description="Rupiah per month.")
    since: date | None
    kelurahan: Kelurahan | None
    bank_account: str | None = strawberry.field(description="The account the aid is paid into.")
    record: strawberry.Private[EnrolmentRecord]
    row: strawberry.Private[RowAccess]

    @strawberry.field(description="The recipient, as the caller may see them through `citizen(nik)`.")
    async def recipient(self, info: Info[Context, None]) -> Citizen | None:
        if not allows(self.row, "recipient"):
            return None
        ctx = info.context
        record = await ctx.loaders.citizen.load(self.record.recipient_nik)
        return None if record is None else Citizen.of(record, ctx, reached_as=ReachedAs.ROOT)

    @classmethod
    def of(cls, record: EnrolmentRecord, ctx: Context) -> AidEnrolment | None:
        facts: dict[str, Any] = {"nik": record.recipient_nik, "kelurahan_code": record.kelurahan_code}
        values = {
            "number": record.number,
            "recipient_nik": record.recipient_nik,
            "programme": record.programme,
            "status": record.status,
            "monthly_amount": record.monthly_amount,
            "since": record.since,
            "kelurahan": Kelurahan.of(ctx.env.region.kelurahan_named(record.kelurahan_code)),
            "bank_account": record.bank_account,
        }
        shaped = ctx.presenter.shape(TYPE, facts, values)
        if shaped is None:
            return None
        ctx.record_access(TYPE, record.recipient_nik, shaped.row)  # keyed by the person, as the hub keys its own
        ctx.trace.shown(record)
        return cls(record=record, row=shaped.row, **shaped.values)


@strawberry.type
class AidQuery:
    @strawberry.field(description="A citizen's social-assistance enrolments, newest first (the aid registry); "
                      "those the caller may not see are left out.")
    async def aid_enrolments(self, info: Info[Context, None], nik: str) -> list[AidEnrolment] | None:
        ctx = info.context
        require_in_case(ctx, "Citizen", checked_nik(nik), "citizen's aid enrolments")
        records = await ctx.loaders.of_plugin(SOURCE_ID, "enrolments_by_nik", one_each=False).load(nik)
        shown = [e for e in (AidEnrolment.of(record, ctx) for record in records) if e is not None]
        ctx.start_ledger_write()
        return shown


#: what each role may see (policy file syntax; the hub's policy file may override it)
POLICY = {
    "roles": {
        "population_officer": {
            "types": {TYPE: {"fields": "*", "hide": ["bankAccount"]}},
            "query": ["aidEnrolments"],
        },
        "kelurahan_officer": {
            "types": {TYPE: {"fields": "*", "hide": ["bankAccount"], "rows": "own_kelurahan"}},
            "query": ["aidEnrolments"],
        },
    }
}

PLUGIN = SchemaPlugin(
    name="aid",
    query=AidQuery,
    types=frozenset({TYPE}),
    personal_fields={TYPE: None},
    value_kinds={(TYPE, "recipientNik"): ValueKind.NIK},
    policy=POLICY,
)
