"""Filter inputs of the root lists, and their validation into connector filters."""

from __future__ import annotations

from datetime import date

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
