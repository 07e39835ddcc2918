"""`RowScope`: which rows a listing may contain, in a form connectors push down.

A scope is a conjunction of filters over a record's plain attributes; a filter left
as ``None`` does not restrict. ``RowScope.none()`` matches nothing, ``RowScope.all()``
everything. The scope never admits fewer rows than the policy allows through a root
listing, and may admit more (rules reached only through a cross-link, such as
"applicants only", contribute nothing to a listing; several roles or rules combine
into a covering scope), so the schema still checks each row with `row_decision`.

`exact` says whether the scope admits exactly the rows the policy allows through a root
listing: only then may a listing's count and `hasNextPage` come from the source (a
wider scope would count, and page past, rows the caller may not read). It does not
take part in equality.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
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
    exact: bool = field(default=True, compare=False)

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

    def widened(self) -> RowScope:
        """The same rows, marked as admitting more than the policy allows."""
        return replace(self, exact=False)

    def within(self, other: RowScope) -> bool:
        """Whether every row of this scope lies in `other` (judged by the filters)."""
        if self.empty:
            return True
        if other.empty:
            return False
        for name in _FILTERS:
            theirs = getattr(other, name)
            mine = getattr(self, name)
            if theirs is not None and (mine is None or not set(mine) <= set(theirs)):
                return False
        return True

    def intersect(self, other: RowScope) -> RowScope:
        """Rows in both scopes (used for a rule that is a conjunction); exact when both are."""
        exact = self.exact and other.exact
        if self.empty or other.empty:
            return RowScope.none() if exact else RowScope.none().widened()
        values = [_both(getattr(self, name), getattr(other, name)) for name in _FILTERS]
        if any(value == () for value in values):
            return RowScope.none() if exact else RowScope.none().widened()
        return _scope(values, exact=exact)

    def cover(self, other: RowScope) -> RowScope:
        """The smallest scope this type can express that holds the rows of both
        (exact when both are and one holds the other or both restrict the same single
        attribute, wider otherwise)."""
        if self.empty:
            return other if self.exact else other.widened()
        if other.empty:
            return self if other.exact else self.widened()
        exact = self.exact and other.exact and (
            self.within(other) or other.within(self) or _same_single(self, other)
        )
        return _scope([_either(getattr(self, name), getattr(other, name)) for name in _FILTERS], exact=exact)


Values = tuple[str, ...] | None


def _both(mine: Values, theirs: Values) -> Values:
    if mine is None or theirs is None:
        return mine if theirs is None else theirs
    return tuple(value for value in mine if value in theirs)


def _either(mine: Values, theirs: Values) -> Values:
    if mine is None or theirs is None:
        return None
    return tuple(dict.fromkeys((*mine, *theirs)))


def _same_single(one: RowScope, other: RowScope) -> bool:
    mine, theirs = one.filters(), other.filters()
    return len(mine) == 1 and mine.keys() == theirs.keys()


def _scope(values: list[Values], *, exact: bool = True) -> RowScope:
    kelurahan_codes, niks, applicant_niks, reporter_niks, visibilities = values
    return RowScope(
        kelurahan_codes=kelurahan_codes,
        niks=niks,
        applicant_niks=applicant_niks,
        reporter_niks=reporter_niks,
        visibilities=visibilities,
        exact=exact,
    )
