"""Filter inputs of the root lists, their validation into connector filters, and what
each of their fields reads.

A filter reads a field as surely as selecting it does: `citizens(filter: {bornFrom,
bornTo}) { totalCount }` tells a birth date apart without showing one. So each filter
field declares the output fields it matches against (`FILTER_READS`), checked against
what the connectors really match. A role's schema holds a filter field only when the
role sees every field it reads in full on every row it may see (`Policy.searchable_fields`:
a masked field is not searchable by its full value), and a filter on personal fields
needs a purpose and leaves a `search` entry in the access ledger (`schema.search`).

`ARGUMENTS` says what every other argument of the schema is, so that a test can walk
each role's schema and find no argument that filters records undeclared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

import strawberry

from connectors import records as r
from connectors.nik import InvalidNik, parse_nik
from schema.errors import BadUserInput
from schema.types.common import (
    ApplicationStatus,
    ComplaintClassification,
    ComplaintStatus,
    ComplaintVisibility,
    Sex,
)

MAX_FILTER_VALUES = 100
MAX_SEARCH_LENGTH = 100
MAX_NUMBER_LENGTH = 64


def checked_nik(value: str, *, argument: str = "nik") -> str:
    try:
        parse_nik(value)
    except InvalidNik as exc:
        raise BadUserInput(f"`{argument}`: {exc}", details={"argument": argument}) from exc
    return value


def checked_number(value: str, *, argument: str = "number") -> str:
    """An application or complaint number as given by a caller: short and printable."""
    if not value or len(value) > MAX_NUMBER_LENGTH or not value.isprintable():
        raise BadUserInput(f"`{argument}` is not a record number", details={"argument": argument})
    return value


def _codes(values: list[str] | None, *, argument: str) -> tuple[str, ...] | None:
    if values is None:
        return None
    if len(values) > MAX_FILTER_VALUES:
        raise BadUserInput(f"`{argument}` takes at most {MAX_FILTER_VALUES} values")
    for value in values:
        if len(value) != 10 or not value.isascii() or not value.isdigit():
            raise BadUserInput(f"`{argument}`: {value[:20]!r} is not a 10-digit kelurahan code")
    return tuple(values)


def _tuple(values: list | None, *, argument: str) -> tuple | None:
    if values is None:
        return None
    if len(values) > MAX_FILTER_VALUES:
        raise BadUserInput(f"`{argument}` takes at most {MAX_FILTER_VALUES} values")
    return tuple(values)


def _search(value: str | None, *, argument: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > MAX_SEARCH_LENGTH:
        raise BadUserInput(f"`{argument}` may be at most {MAX_SEARCH_LENGTH} characters")
    return value


def _range(start: date | None, end: date | None, *, what: str) -> None:
    if start and end and start > end:
        raise BadUserInput(f"the {what} range ends before it starts")


@strawberry.input
class CitizenFilter:
    kelurahan: list[str] | None = None
    name_contains: str | None = None
    family_number: str | None = None
    sex: Sex | None = None
    born_from: date | None = None
    born_to: date | None = None

    def to_filter(self) -> r.CitizenFilter:
        _range(self.born_from, self.born_to, what="birth date")
        if self.family_number is not None and (
            len(self.family_number) != 16 or not self.family_number.isdigit()
        ):
            raise BadUserInput("`familyNumber` is a 16-digit family card number")
        return r.CitizenFilter(
            kelurahan_codes=_codes(self.kelurahan or None, argument="kelurahan"),
            name_contains=_search(self.name_contains, argument="nameContains"),
            family_number=self.family_number,
            sex=self.sex,
            born_from=self.born_from,
            born_to=self.born_to,
        )


@strawberry.input
class ApplicationFilter:
    kelurahan: list[str] | None = None
    status: list[ApplicationStatus] | None = None
    permit_type: list[str] | None = None
    received_from: date | None = None
    received_to: date | None = None
    applicant_nik: str | None = None
    name_contains: str | None = None

    def to_filter(self) -> r.ApplicationFilter:
        _range(self.received_from, self.received_to, what="received date")
        niks = None
        if self.applicant_nik is not None:
            niks = (checked_nik(self.applicant_nik, argument="applicantNik"),)
        return r.ApplicationFilter(
            applicant_niks=niks,
            kelurahan_codes=_codes(self.kelurahan, argument="kelurahan"),
            statuses=_tuple(self.status, argument="status"),
            permit_types=_tuple(self.permit_type, argument="permitType"),
            received_from=self.received_from,
            received_to=self.received_to,
            name_contains=_search(self.name_contains, argument="nameContains"),
        )


@strawberry.input
class ComplaintFilter:
    kelurahan: list[str] | None = None
    status: list[ComplaintStatus] | None = None
    category: list[str] | None = None
    classification: list[ComplaintClassification] | None = None
    visibility: list[ComplaintVisibility] | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None

    def to_filter(self) -> r.ComplaintFilter:
        _range(self.submitted_from, self.submitted_to, what="submission date")
        return r.ComplaintFilter(
            kelurahan_codes=_codes(self.kelurahan, argument="kelurahan"),
            statuses=_tuple(self.status, argument="status"),
            categories=_tuple(self.category, argument="category"),
            classifications=_tuple(self.classification, argument="classification"),
            visibilities=_tuple(self.visibility, argument="visibility"),
            submitted_from=self.submitted_from,
            submitted_to=self.submitted_to,
        )


@dataclass(frozen=True, slots=True)
class FilterField:
    """What one filter field matches against: output fields of the listed type, and
    how its value is masked in the ledger's `search` entry (None: shown as given)."""

    reads: frozenset[str]
    ledger_mask: str | None = None


def _reads(*fields: str, mask: str | None = None) -> FilterField:
    return FilterField(frozenset(fields), mask)


#: Filter input type -> (the type it lists, its fields by GraphQL name).
FILTER_READS: Mapping[str, tuple[str, Mapping[str, FilterField]]] = MappingProxyType({
    "CitizenFilter": ("Citizen", MappingProxyType({
        "kelurahan": _reads("kelurahan"),
        "nameContains": _reads("fullName", mask="initials"),
        "familyNumber": _reads("familyNumber", mask="kk"),
        "sex": _reads("sex"),
        "bornFrom": _reads("birthDate", mask="year"),
        "bornTo": _reads("birthDate", mask="year"),
    })),
    "ApplicationFilter": ("Application", MappingProxyType({
        "kelurahan": _reads("kelurahan"),
        "status": _reads("status"),
        "permitType": _reads("permitType"),
        "receivedFrom": _reads("receivedAt"),
        "receivedTo": _reads("receivedAt"),
        "applicantNik": _reads("applicantNik", mask="nik"),
        # the licensing system matches the applicant's name or the company's
        "nameContains": _reads("applicantName", "companyName", mask="initials"),
    })),
    "ComplaintFilter": ("Complaint", MappingProxyType({
        "kelurahan": _reads("kelurahan"),
        "status": _reads("status"),
        "category": _reads("category"),
        "classification": _reads("classification"),
        "visibility": _reads("visibility"),
        "submittedFrom": _reads("submittedAt"),
        "submittedTo": _reads("submittedAt"),
    })),
})

PAGING = "paging"  # first, after, beforeSeq: where a list starts and how long it is
KEY = "key"  # a record's own key: answers obey the existence rule (schema.queries)
VALUE = "value"  # a value written, or a parameter that matches no record's field
FILTER = "filter"  # a filter input (FILTER_READS)

#: (type, field, argument) -> what the argument is; walked by the tests for every role.
ARGUMENTS: Mapping[tuple[str, str, str], str] = MappingProxyType({
    **{("Query", root, arg): PAGING for root in ("citizens", "applications", "complaints")
       for arg in ("first", "after")},
    **{("Query", root, "filter"): FILTER for root in ("citizens", "applications", "complaints")},
    ("Query", "citizen", "nik"): KEY,
    ("Query", "family", "number"): KEY,
    ("Query", "application", "number"): KEY,
    ("Query", "complaint", "number"): KEY,
    # the number is the capability: tracking shows no personal data (policy rows `tracked`)
    ("Query", "trackApplication", "number"): KEY,
    ("Query", "trackComplaint", "number"): KEY,
    # verification answers only whether the given identity matches, for the roles allowed it
    ("Query", "verifyCitizen", "nik"): KEY,
    ("Query", "verifyCitizen", "fullName"): VALUE,
    ("Query", "verifyCitizen", "birthDate"): VALUE,
    ("Query", "myAccessLog", "first"): PAGING,
    ("Query", "myAccessLog", "beforeSeq"): PAGING,
    # the auditor's ledger, filtered by who and whose record (the auditor's own job)
    ("Query", "accessLedger", "first"): PAGING,
    ("Query", "accessLedger", "beforeSeq"): PAGING,
    ("Query", "accessLedger", "subject"): KEY,
    ("Query", "accessLedger", "recordKey"): KEY,
    ("Query", "accessLedger", "purpose"): VALUE,
    ("Query", "accessLedger", "since"): VALUE,
    ("Query", "accessLedger", "until"): VALUE,
    # aggregates: small-count suppression guards what they show
    ("Query", "satisfactionIndex", "service"): VALUE,
    ("Query", "satisfactionIndex", "period"): VALUE,
    ("Query", "serviceMetrics", "period"): VALUE,
    ("Query", "serviceMetrics", "kelurahan"): VALUE,
    ("Query", "serviceMetrics", "permitType"): VALUE,
    ("Query", "serviceMetrics", "category"): VALUE,
    ("Query", "performanceReport", "period"): VALUE,
    # live updates (schema.subscriptions): `after` is where a stream resumes; the numbers
    # are tracking's; the filter is matched against each event as shaped for the caller
    **{("Subscription", root, "after"): PAGING
       for root in ("applicationTracking", "complaintTracking", "myCases", "caseUpdates")},
    ("Subscription", "applicationTracking", "number"): KEY,
    ("Subscription", "complaintTracking", "number"): KEY,
    ("Subscription", "caseUpdates", "filter"): VALUE,
    ("Subscription", "serviceMetricsUpdated", "period"): VALUE,
    ("Subscription", "serviceMetricsUpdated", "kelurahan"): VALUE,
    ("Subscription", "serviceMetricsUpdated", "permitType"): VALUE,
    ("Subscription", "serviceMetricsUpdated", "category"): VALUE,
    ("Mutation", "setNotifications", "enabled"): VALUE,  # the caller's own choice
    ("Mutation", "updateApplicationStatus", "number"): KEY,
    ("Mutation", "updateApplicationStatus", "status"): VALUE,
    ("Mutation", "updateApplicationStatus", "note"): VALUE,
    ("Mutation", "updateApplicationStatus", "idempotencyKey"): VALUE,
    ("Mutation", "updateComplaintStatus", "number"): KEY,
    ("Mutation", "updateComplaintStatus", "status"): VALUE,
    ("Mutation", "updateComplaintStatus", "note"): VALUE,
    ("Mutation", "updateComplaintStatus", "idempotencyKey"): VALUE,
    ("Mutation", "submitComplaint", "input"): VALUE,
    ("Mutation", "submitComplaint", "idempotencyKey"): VALUE,
    ("Mutation", "submitSatisfactionSurvey", "input"): VALUE,
    # online applications (schema.intake): the applicant is always the caller's NIK
    ("Mutation", "submitApplication", "input"): VALUE,
    ("Mutation", "submitApplication", "documents"): VALUE,
    ("Mutation", "submitApplication", "idempotencyKey"): VALUE,
    ("Mutation", "completeApplication", "number"): KEY,  # NOT_FOUND alike for others' and absent ones
    ("Mutation", "completeApplication", "documents"): VALUE,
    ("Mutation", "completeApplication", "idempotencyKey"): VALUE,
    ("Mutation", "markApplicationIncomplete", "number"): KEY,
    ("Mutation", "markApplicationIncomplete", "missing"): VALUE,
    ("Mutation", "markApplicationIncomplete", "note"): VALUE,
    ("Mutation", "markApplicationIncomplete", "idempotencyKey"): VALUE,
})


def searchable_inputs(searchable: Mapping[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """The filter fields a role's schema holds, per filter input type, given the fields
    it may search by per listed type (`Policy.searchable_fields`)."""
    return {
        input_name: frozenset(name for name, field in fields.items() if field.reads <= searchable.get(type_name, frozenset()))
        for input_name, (type_name, fields) in FILTER_READS.items()
    }
