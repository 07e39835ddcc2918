"""Named row rules: pure tests over the principal's claims and a record's plain data.

A record is a plain mapping handed in by the schema layer. Keys the rules read:

    nik, kelurahan_code, family_number, applicant_nik, reporter_nik
    visibility            PUBLIC | CONFIDENTIAL | ANONYMOUS (an enum's `.value` is used)
    reached_as            how the schema reached the record, a `ReachedAs` value
                          (missing means ROOT)
    family_of_principal   True when the record belongs to the principal's own family
                          (a citizen in it, or the family itself)

For a citizen reached as a complaint's reporter, and for a complaint reached through
its reporter's record, `visibility` is that complaint's visibility.

Each rule also says which rows a root listing may contain (`scope`), for push-down,
how that scope relates to its test for a record reached at the root (`at_root`: the
same rows, never a row, or neither, which a listing cannot count or page exactly),
and which record keys its test reads (`reads`): two records that agree on those keys get
the same answer, which lets a caller decide once for many records. The keys are derived
by running the rule against a recording record (`auth.policy._reads`), never declared,
so a constant a rule compares a record's value with belongs in `_CONSTANTS`.
A rule that only ever matches through a cross-link (applicants, reporters, family
members, tracking) admits nothing to a listing.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from auth.policy._reads import derive_reads
from auth.policy._scope import RowScope
from auth.principal import Principal

Record = Mapping[str, Any]


class ReachedAs(enum.StrEnum):
    ROOT = "root"  # a root field: citizen(nik), applications(...), ...
    APPLICANT = "applicant"  # Application.applicant
    REPORTER = "reporter"  # Complaint.reporter
    FAMILY_MEMBER = "family_member"  # Family.members, Family.head
    OF_CITIZEN = "of_citizen"  # Citizen.applications, Citizen.complaints
    TRACKING = "tracking"  # trackApplication(number), trackComplaint(number)


PUBLIC = "PUBLIC"
CONFIDENTIAL = "CONFIDENTIAL"
ANONYMOUS = "ANONYMOUS"

#: Every constant a rule compares a record's value with: the values that drive the
#: rules' branches when their reads are derived.
_CONSTANTS: tuple[str, ...] = (*ReachedAs, PUBLIC, CONFIDENTIAL, ANONYMOUS)


class AtRoot(enum.StrEnum):
    """How a rule's `scope` relates to its `match` for records reached at the root."""

    SCOPE = "scope"  # matches exactly the rows of its scope
    NEVER = "never"  # matches no record reached at the root (only through a cross-link)
    OTHER = "other"  # neither: a listing filtered by the scope would differ from the rule


@dataclass(frozen=True, slots=True)
class RowRule:
    name: str
    description: str
    match: Callable[[Principal, Record], bool]
    scope: Callable[[Principal], RowScope]
    at_root: AtRoot = AtRoot.SCOPE

    @property
    def reads(self) -> frozenset[str]:
        """The record keys `match` looks at on any branch, derived by running it
        (`auth.policy._reads`); the policy loader asks for them, so a rule whose reads
        cannot be derived stops the start."""
        return derive_reads(self.match, _CONSTANTS)


def _get(record: Record, key: str) -> Any:
    value = record.get(key)
    return getattr(value, "value", value)


def _reached(record: Record) -> str:
    return str(_get(record, "reached_as") or ReachedAs.ROOT)


def _same(claim: str | None, value: Any) -> bool:
    return claim is not None and value is not None and value == claim


def _in_kelurahan(p: Principal, r: Record) -> bool:
    return _same(p.kelurahan, _get(r, "kelurahan_code"))


def _kelurahan_scope(p: Principal) -> RowScope:
    return RowScope(kelurahan_codes=(p.kelurahan,)) if p.kelurahan else RowScope.none()


def _own_nik_scope(p: Principal) -> RowScope:
    return RowScope(niks=(p.nik,)) if p.nik else RowScope.none()


def _own_applications_scope(p: Principal) -> RowScope:
    return RowScope(applicant_niks=(p.nik,)) if p.nik else RowScope.none()


def _own_complaints_scope(p: Principal) -> RowScope:
    return RowScope(reporter_niks=(p.nik,)) if p.nik else RowScope.none()


def _reveals_protected_reporter(p: Principal, r: Record) -> bool:
    if _reached(r) not in (ReachedAs.REPORTER, ReachedAs.OF_CITIZEN):
        return False
    if _get(r, "visibility") not in (CONFIDENTIAL, ANONYMOUS):
        return False
    reporter = _get(r, "reporter_nik") if "reporter_nik" in r else _get(r, "nik")
    return not _same(p.nik, reporter)


def _everything(p: Principal) -> RowScope:
    return RowScope.all()


def _nothing(p: Principal) -> RowScope:
    return RowScope.none()


_RULES = (
    RowRule("all", "every row", lambda p, r: True, _everything),
    RowRule("none", "no row", lambda p, r: False, _nothing),
    RowRule(
        "own_kelurahan",
        "rows whose kelurahan_code is the principal's kelurahan claim",
        _in_kelurahan,
        _kelurahan_scope,
    ),
    RowRule(
        "kelurahan_applications",
        "applications located in the principal's kelurahan",
        _in_kelurahan,
        _kelurahan_scope,
    ),
    RowRule(
        "kelurahan_complaints",
        "complaints located in the principal's kelurahan",
        _in_kelurahan,
        _kelurahan_scope,
    ),
    RowRule(
        "own_nik",
        "the principal's own record (nik equals the nik claim)",
        lambda p, r: _same(p.nik, _get(r, "nik")),
        _own_nik_scope,
    ),
    RowRule(
        "family_of_principal",
        "records of the principal's own family (family_of_principal is true)",
        lambda p, r: r.get("family_of_principal") is True,
        _nothing,
        at_root=AtRoot.OTHER,
    ),
    RowRule(
        "applicants_only",
        "citizens reached as the applicant of an application",
        lambda p, r: _reached(r) == ReachedAs.APPLICANT,
        _nothing,
        at_root=AtRoot.NEVER,
    ),
    RowRule(
        "reporters_of_visible_complaints",
        "citizens reached as the reporter of a PUBLIC complaint",
        lambda p, r: _reached(r) == ReachedAs.REPORTER and _get(r, "visibility") == PUBLIC,
        _nothing,
        at_root=AtRoot.NEVER,
    ),
    RowRule(
        "own_applications",
        "applications whose applicant_nik is the principal's nik",
        lambda p, r: _same(p.nik, _get(r, "applicant_nik")),
        _own_applications_scope,
    ),
    RowRule(
        "own_complaints",
        "complaints whose reporter_nik is the principal's nik",
        lambda p, r: _same(p.nik, _get(r, "reporter_nik")),
        _own_complaints_scope,
    ),
    RowRule(
        "public_complaints",
        "complaints the public may see (PUBLIC or ANONYMOUS, not CONFIDENTIAL)",
        lambda p, r: _get(r, "visibility") in (PUBLIC, ANONYMOUS),
        lambda p: RowScope(visibilities=(PUBLIC, ANONYMOUS)),
    ),
    RowRule(
        "visibility_public",
        "complaints whose reporter may be shown (visibility PUBLIC)",
        lambda p, r: _get(r, "visibility") == PUBLIC,
        lambda p: RowScope(visibilities=(PUBLIC,)),
    ),
    RowRule(
        "tracked",
        "a record looked up by its number for tracking",
        lambda p, r: _reached(r) == ReachedAs.TRACKING,
        _nothing,
        at_root=AtRoot.NEVER,
    ),
    RowRule(
        "reveals_protected_reporter",
        "a link between a CONFIDENTIAL or ANONYMOUS complaint and its reporter "
        "(reporter reached through the complaint or the complaint through its reporter), "
        "unless the principal is that reporter; meant for `deny:`",
        _reveals_protected_reporter,
        _everything,
        at_root=AtRoot.NEVER,
    ),
)

ROW_RULES: Mapping[str, RowRule] = MappingProxyType({rule.name: rule for rule in _RULES})

#: Shorthands that stand for several bindings: (rule names, narrowed fields or None).
ROW_MACROS: Mapping[str, tuple[tuple[tuple[str, ...], tuple[str, ...] | None], ...]] = (
    MappingProxyType(
        {
            # A citizen's own record in full; the members of their family by name only.
            "own_family_names_only": (
                (("own_nik",), None),
                (("family_of_principal",), ("fullName",)),
            ),
        }
    )
)
