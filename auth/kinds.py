"""Value kinds: what a personal value is, whatever the field that carries it is called.

A NIK is a NIK under `Citizen.nik`, `Application.applicantNik` or `Complaint.reporterNik`.
The policy masks and hides values per kind (see `auth.policy`): when a role masks or
hides a kind on one field, every other field of that kind it can see is masked or hidden
the same way, unless the policy file says otherwise for that field (`unmasked:`). So a
new field carrying a NIK cannot be added unmasked by forgetting it in the policy.

The schema layer declares which field carries which kind (`ValueKinds`) and hands the
map to the policy loader with the catalogue; `auth` knows no field names.

Some kinds hold others: a NIK's digits 7-12 are its holder's birth date (and sex), so
a role whose birth dates are masked or hidden may not see NIKs in full (`CONTAINS`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType


class ValueKind(enum.StrEnum):
    NIK = "nik"  # Nomor Induk Kependudukan, 16 digits
    FAMILY_NUMBER = "family_number"  # No. KK, 16 digits
    NAME = "name"  # a person's name
    ADDRESS = "address"  # a street address
    BIRTH_DATE = "birth_date"


#: (GraphQL type name, field name) -> the kind of value the field carries.
ValueKinds = Mapping[tuple[str, str], ValueKind]

#: A kind -> the kinds a value of it discloses in full.
CONTAINS: Mapping[ValueKind, tuple[ValueKind, ...]] = MappingProxyType(
    {ValueKind.NIK: (ValueKind.BIRTH_DATE,)}
)

__all__ = ["CONTAINS", "ValueKind", "ValueKinds"]
