"""`RowScope`: which rows a listing may contain, in a form connectors push down.

A scope is a conjunction of filters over a record's plain attributes; a filter left
as ``None`` does not restrict. ``RowScope.none()`` matches nothing, ``RowScope.all()``
everything. The scope never admits fewer rows than the policy allows through a root
listing, and may admit more (rules reached only through a cross-link, such as
"applicants only", contribute nothing to a listing; several roles or rules combine
into a covering scope), so the schema still checks each row with `row_decision`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_FILTERS = ("kelurahan_codes", "niks", "applicant_niks", "reporter_niks", "visibilities")


@dataclass(frozen=True, slots=True)
class RowScope:
    empty: bool = False  # True: no row at all
    kelurahan_codes: tuple[str, ...] | None = None  # record `kelurahan_code`
    niks: tuple[str, ...] | None = None  # record `nik`
    applicant_niks: tuple[str, ...] | None = None  # record `applicant_nik`
    reporter_niks: tuple[str, ...] | None = None  # record `reporter_nik`
    visibilities: tuple[str, ...] | None = None  # record `visibility` (PUBLIC, ...)

    @classmethod
    def all(cls) -> RowScope:
        return cls()

    @classmethod
    def none(cls) -> RowScope:
        return cls(empty=True)

    @property
    def is_all(self) -> bool:
        return not self.empty and all(getattr(self, name) is None for name in _FILTERS)

    def filters(self) -> dict[str, tuple[str, ...]]:
        """The restricting filters only, by record attribute plural name."""
        found = {name: getattr(self, name) for name in _FILTERS}
        return {name: value for name, value in found.items() if value is not None}

    def admits(self, record: Any) -> bool:
        """Whether a plain record mapping lies inside the scope (for fakes and tests)."""
        if self.empty:
            return False
        keys = {
            "kelurahan_codes": "kelurahan_code",
            "niks": "nik",
            "applicant_niks": "applicant_nik",
            "reporter_niks": "reporter_nik",
            "visibilities": "visibility",
        }
        for name, allowed in self.filters().items():
            value = record.get(keys[name])
            value = getattr(value, "value", value)
            if value not in allowed:
                return False
        return True

    def intersect(self, other: RowScope) -> RowScope:
        """Rows in both scopes (used for a rule that is a conjunction)."""
        if self.empty or other.empty:
            return RowScope.none()
        values = [_both(getattr(self, name), getattr(other, name)) for name in _FILTERS]
        if any(value == () for value in values):
            return RowScope.none()
        return _scope(values)

    def cover(self, other: RowScope) -> RowScope:
        """The smallest scope this type can express that holds the rows of both
        (exact when both restrict the same single attribute, wider otherwise)."""
        if self.empty:
            return other
        if other.empty:
            return self
        return _scope([_either(getattr(self, name), getattr(other, name)) for name in _FILTERS])


Values = tuple[str, ...] | None


def _both(mine: Values, theirs: Values) -> Values:
    if mine is None or theirs is None:
        return mine if theirs is None else theirs
    return tuple(value for value in mine if value in theirs)


def _either(mine: Values, theirs: Values) -> Values:
    if mine is None or theirs is None:
        return None
    return tuple(dict.fromkeys((*mine, *theirs)))


def _scope(values: list[Values]) -> RowScope:
    kelurahan_codes, niks, applicant_niks, reporter_niks, visibilities = values
    return RowScope(
        kelurahan_codes=kelurahan_codes,
        niks=niks,
        applicant_niks=applicant_niks,
        reporter_niks=reporter_niks,
        visibilities=visibilities,
    )
