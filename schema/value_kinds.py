"""Which field of the schema carries which kind of personal value, declared once.

The policy masks and hides per kind (`auth.kinds`, `auth.policy._kinds`), so a field
carrying a NIK is masked wherever a role's NIK mask applies, whatever it is called.
A field whose name says it carries a personal value (`...Nik`, `...Address`, ...) must
be declared here, or in `CALLERS_OWN`: `value_kinds` refuses to start otherwise, so a
new such field cannot slip past the policy unmasked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from auth.kinds import ValueKind, ValueKinds
from auth.policy import Catalogue, PolicyError

NIK, FAMILY_NUMBER, NAME, ADDRESS, BIRTH_DATE = (
    ValueKind.NIK,
    ValueKind.FAMILY_NUMBER,
    ValueKind.NAME,
    ValueKind.ADDRESS,
    ValueKind.BIRTH_DATE,
)

_DECLARED: dict[tuple[str, str], ValueKind] = (
    {
        ("Citizen", "nik"): NIK,
        ("Citizen", "familyNumber"): FAMILY_NUMBER,
        ("Citizen", "fullName"): NAME,
        ("Citizen", "motherName"): NAME,
        ("Citizen", "birthDate"): BIRTH_DATE,
        ("Citizen", "address"): ADDRESS,
        ("Family", "number"): FAMILY_NUMBER,
        ("Family", "address"): ADDRESS,
        ("Application", "applicantNik"): NIK,
        ("Application", "applicantName"): NAME,
        ("Application", "companyName"): NAME,  # a sole trader's business is often their name
        ("Application", "businessAddress"): ADDRESS,
        ("Complaint", "reporterNik"): NIK,
    }
)
VALUE_KINDS: ValueKinds = MappingProxyType(_DECLARED)


def declare_kinds(kinds: Mapping[tuple[str, str], ValueKind]) -> None:
    """Add a plug-in's declarations (schema.plugins); it may not redeclare the hub's."""
    clash = set(kinds) & set(_DECLARED)
    if clash:
        raise PolicyError(f"a plug-in redeclares the value kind of {sorted(clash)}")
    _DECLARED.update(kinds)

#: Fields whose names announce a kind but which echo the caller's own token, shown to
#: that caller only: nobody else's value, so no role's mask is about them.
CALLERS_OWN: Mapping[tuple[str, str], str] = MappingProxyType(
    {("Principal", "nik"): "the `nik` claim of the caller's own token"}
)

#: Field names that say what they carry.
_ANNOUNCED: tuple[tuple[re.Pattern[str], ValueKind], ...] = (
    (re.compile(r"^nik$|Nik$"), NIK),
    (re.compile(r"^familyNumber$|FamilyNumber$|^(no)?[kK]k$|Kk$"), FAMILY_NUMBER),
    (re.compile(r"^(full|mother|father|spouse|applicant|reporter|holder)Name$"), NAME),
    (re.compile(r"^address$|Address$"), ADDRESS),
    (re.compile(r"^birthDate$|BirthDate$|^dateOfBirth$"), BIRTH_DATE),
)


def value_kinds(catalogue: Catalogue) -> ValueKinds:
    """The kinds to hand to the policy loader with `catalogue`; `PolicyError` (the
    hub does not start) for a field whose name announces a kind nobody declared."""
    for type_name, fields in sorted(catalogue.items()):
        for field_name in sorted(fields):
            key = (type_name, field_name)
            if key in VALUE_KINDS or key in CALLERS_OWN:
                continue
            for pattern, kind in _ANNOUNCED:
                if pattern.search(field_name):
                    raise PolicyError(
                        f"{type_name}.{field_name} looks like it carries a {kind.name} but has no "
                        "value kind: declare it in VALUE_KINDS so that the policy's masks follow it",
                        file="schema/value_kinds.py",
                    )
    return VALUE_KINDS
