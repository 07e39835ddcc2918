"""verifyCitizen: does what an applicant wrote match the registry? Answers per field,
without disclosing the record."""

from __future__ import annotations

import unicodedata
from datetime import date

import strawberry
from strawberry.types import Info

from schema.cases import require_in_case
from schema.context import Context
from schema.inputs import checked_nik


@strawberry.type(description="Whether the given data matches the population registry; "
                 "the record itself is never returned.")
class CitizenVerification:
    nik_found: bool
    full_name_matches: bool | None = strawberry.field(description="Null when the NIK is unknown.")
    birth_date_matches: bool | None
    matches: bool = strawberry.field(description="The NIK exists and every given field matches.")


def same_name(a: str, b: str) -> bool:
    """Names compared without case, accents, punctuation or repeated spaces."""

    def norm(value: str) -> str:
        value = unicodedata.normalize("NFKD", value).casefold()
        kept = "".join(c if c.isalnum() else " " for c in value if not unicodedata.combining(c))
        return " ".join(kept.split())

    return norm(a) == norm(b)


@strawberry.type
class VerificationQuery:
    @strawberry.field(description="Checks a NIK with a full name and birth date against the registry.")
    async def verify_citizen(
        self, info: Info[Context, None], nik: str, full_name: str, birth_date: date
    ) -> CitizenVerification:
        ctx = info.context
        nik = checked_nik(nik)
        require_in_case(ctx, "CitizenVerification", nik, "citizen")
        record = await ctx.loaders.citizen.load(nik)
        selected = ctx.selected.get("CitizenVerification", frozenset())
        ctx.note("CitizenVerification", nik, set(selected) | {"nik", "fullName", "birthDate"})
        if record is None:
            return CitizenVerification(
                nik_found=False, full_name_matches=None, birth_date_matches=None, matches=False
            )
        name_ok = same_name(record.full_name, full_name[:200])
        date_ok = record.birth_date == birth_date
        return CitizenVerification(
            nik_found=True, full_name_matches=name_ok, birth_date_matches=date_ok, matches=name_ok and date_ok
        )
