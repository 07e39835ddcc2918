"""Case-bound purposes: the case `X-Access-Case` names, looked up in its source once per
request, and which records belong to it.

A purpose bound to a case kind (`auth.purposes`) lets its holder read the personal data
of one case: of an application case, the application and its applicant (the citizen
with the applicant's NIK, or a verification of that NIK); of a complaint case, the
complaint and its reporter. Under a checked case an operation reads no other record of
a personal type (`schema.access.PERSONAL_FIELDS`):

- a record asked for by its key (`citizen(nik)`, `application(number)`,
  `verifyCitizen(nik)`, a status change, ...) that is not the case's is refused before
  it is loaded (`require_in_case`), so the refusal says nothing of whether it exists;
- a root listing is refused the same way (`refuse_listing`): a case's records are read
  by number, and a page narrowed to them after the fetch would count and page rows the
  caller may not read;
- a record reached through a link (a citizen's applications, a family's members) that
  is not the case's is left out like a row the policy refuses (each type's `of` asks
  `Case.covers`), so a link shows nothing of what lies outside the case, not even how
  much there is.

Refusals are PURPOSE_REQUIRED: the caller's role may read such records, but not under
the purpose and case it declared. The case is looked up through the request's loaders,
so the operation's own look-up of the case's record is answered from the loader's
cache; if its source fails, the operation is refused with that source's error (no
personal data without a checked case). The ledger records the number of the case as
its source holds it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from aiodataloader import DataLoader

from auth.purposes import CASE_KINDS, PurposeDecision
from schema.errors import PurposeRequired
from schema.loaders import Loaders

if TYPE_CHECKING:
    from schema.context import Context

#: Personal types keyed by the NIK of the person they are about.
PERSON_TYPES = frozenset({"Citizen", "CitizenVerification"})


@dataclass(frozen=True, slots=True)
class CaseKind:
    record_type: str  # the GraphQL type of the case's own record
    source: str  # the source system holding it (for messages)
    person: str  # the record's attribute holding the NIK of the case's person
    person_role: str  # what that person is to the case (for messages)
    loader: Callable[[Loaders], DataLoader]


KINDS: Mapping[str, CaseKind] = MappingProxyType({
    "application": CaseKind("Application", "licensing", "applicant_nik", "applicant", lambda loaders: loaders.application),
    "complaint": CaseKind("Complaint", "complaints", "reporter_nik", "reporter", lambda loaders: loaders.complaint),
})
if tuple(KINDS) != CASE_KINDS:  # every kind a purpose file may name is known here
    raise ImportError("schema.cases: KINDS does not follow auth.purposes.CASE_KINDS")


@dataclass(frozen=True, slots=True)
class Case:
    """A case found in its source: its kind, its number and its person's NIK (None for
    a company's application without a representative, an anonymous complaint, ...)."""

    kind: str
    number: str
    person: str | None

    def covers(self, type_name: str, key: str | None) -> bool:
        """Whether the record of `type_name` with `key` (a NIK for the person types, a
        number for applications and complaints) belongs to the case."""
        if key is None:
            return False
        if type_name in PERSON_TYPES:
            return key == self.person
        return type_name == KINDS[self.kind].record_type and key == self.number


async def enter_case(ctx: Context, decision: PurposeDecision) -> None:
    """Put an allowed purpose decision in force: its purpose, and the case it names,
    looked up in its source. Raises PurposeRequired when there is no such case, and the
    connector's error when the source cannot say."""
    ctx.purpose = decision.purpose
    if decision.case_kind is None or decision.case is None:
        ctx.checked_case = None
        return
    kind = KINDS[decision.case_kind]
    record: Any = await kind.loader(ctx.loaders).load(decision.case)
    if record is None:
        raise PurposeRequired(
            f"the purpose {decision.purpose!r} needs X-Access-Case to name an existing"
            f" {decision.case_kind} of the {kind.source} system; {decision.case!r} is not one"
        )
    ctx.checked_case = Case(decision.case_kind, record.number, getattr(record, kind.person))


def _what_it_covers(case: Case) -> str:
    kind = KINDS[case.kind]
    return (f"under it, only the {case.kind} {case.number!r} and its {kind.person_role}"
            " may be read; read other records under their own case")


def require_in_case(ctx: Context, type_name: str, key: str, what: str) -> None:
    """Refuse a record asked for by its key that is not part of the checked case (before
    it is loaded)."""
    case = ctx.checked_case
    if case is not None and not case.covers(type_name, key):
        raise PurposeRequired(f"this {what} is not part of the case in X-Access-Case: {_what_it_covers(case)}")


def refuse_listing(ctx: Context, what: str) -> None:
    """Refuse a root listing under a checked case."""
    case = ctx.checked_case
    if case is not None:
        raise PurposeRequired(f"a list of {what} is not part of the case in X-Access-Case: {_what_it_covers(case)}")
