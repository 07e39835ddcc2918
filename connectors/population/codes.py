"""SIAK code tables (BIODATA_WNI) ↔ domain values, per demo/API.md.

Each table is a dict from the source's SMALLINT code to the domain value, with the
reverse built from it, so a code added on one side cannot be forgotten on the other.
Labelled columns (blood type, education, occupation) map to their Indonesian label;
GOL_DRH 13 (TIDAK TAHU) is the record's `None`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from connectors._codes import UnknownCode, invert
from connectors.records import FamilyRelationship, MaritalStatus, Religion, Sex

V = TypeVar("V")


JENIS_KLMIN: dict[int, Sex] = {1: Sex.MALE, 2: Sex.FEMALE}

GOL_DRH_UNKNOWN = 13
GOL_DRH: dict[int, str | None] = {
    1: "A",
    2: "B",
    3: "AB",
    4: "O",
    5: "A+",
    6: "A-",
    7: "B+",
    8: "B-",
    9: "AB+",
    10: "AB-",
    11: "O+",
    12: "O-",
    GOL_DRH_UNKNOWN: None,  # TIDAK TAHU
}

AGAMA: dict[int, Religion] = {
    1: Religion.ISLAM,
    2: Religion.KRISTEN,
    3: Religion.KATOLIK,
    4: Religion.HINDU,
    5: Religion.BUDDHA,
    6: Religion.KHONGHUCU,
    7: Religion.KEPERCAYAAN,
}

STAT_KWN: dict[int, MaritalStatus] = {
    1: MaritalStatus.SINGLE,
    2: MaritalStatus.MARRIED,
    3: MaritalStatus.DIVORCED,
    4: MaritalStatus.WIDOWED,
}

STAT_HBKEL: dict[int, FamilyRelationship] = {
    1: FamilyRelationship.HEAD,
    2: FamilyRelationship.HUSBAND,
    3: FamilyRelationship.WIFE,
    4: FamilyRelationship.CHILD,
    5: FamilyRelationship.CHILD_IN_LAW,
    6: FamilyRelationship.GRANDCHILD,
    7: FamilyRelationship.PARENT,
    8: FamilyRelationship.PARENT_IN_LAW,
    9: FamilyRelationship.OTHER_FAMILY,
    10: FamilyRelationship.HOUSEHOLD_HELPER,
    11: FamilyRelationship.OTHER,
}

PDDK_AKH: dict[int, str] = {
    1: "Tidak/Belum Sekolah",
    2: "Belum Tamat SD/Sederajat",
    3: "Tamat SD/Sederajat",
    4: "SLTP/Sederajat",
    5: "SLTA/Sederajat",
    6: "Diploma I/II",
    7: "Akademi/Diploma III/Sarjana Muda",
    8: "Diploma IV/Strata I",
    9: "Strata II",
    10: "Strata III",
}

JENIS_PKRJN: dict[int, str] = {
    1: "Belum/Tidak Bekerja",
    2: "Mengurus Rumah Tangga",
    3: "Pelajar/Mahasiswa",
    4: "Pensiunan",
    5: "Pegawai Negeri Sipil",
    6: "TNI",
    7: "Kepolisian RI",
    8: "Perdagangan",
    9: "Petani/Pekebun",
    10: "Nelayan",
    11: "Industri",
    12: "Konstruksi",
    13: "Transportasi",
    14: "Karyawan Swasta",
    15: "Karyawan BUMN",
    16: "Karyawan Honorer",
    17: "Buruh Harian Lepas",
    18: "Guru",
    19: "Dosen",
    20: "Dokter",
    21: "Bidan",
    22: "Perawat",
    23: "Wiraswasta",
    24: "Sopir",
    25: "Pedagang",
    26: "Lainnya",
}

SEX_CODES = invert(JENIS_KLMIN)
BLOOD_TYPE_CODES = invert(GOL_DRH)
RELIGION_CODES = invert(AGAMA)
MARITAL_STATUS_CODES = invert(STAT_KWN)
RELATIONSHIP_CODES = invert(STAT_HBKEL)
EDUCATION_CODES = invert(PDDK_AKH)
OCCUPATION_CODES = invert(JENIS_PKRJN)

#: Every SIAK code table by column name (for tests and documentation).
TABLES: dict[str, Mapping[int, object]] = {
    "JENIS_KLMIN": JENIS_KLMIN,
    "GOL_DRH": GOL_DRH,
    "AGAMA": AGAMA,
    "STAT_KWN": STAT_KWN,
    "STAT_HBKEL": STAT_HBKEL,
    "PDDK_AKH": PDDK_AKH,
    "JENIS_PKRJN": JENIS_PKRJN,
}


def decode(column: str, table: Mapping[int, V], value: object) -> V:
    """The domain value of a source code (ints, or digit strings as some replicas store)."""
    if value.__class__ is int and value in table:  # a stored int: no int() call per column
        return table[value]  # type: ignore[index]
    try:
        code = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError) as exc:
        raise UnknownCode(column, value) from exc
    try:
        return table[code]
    except KeyError as exc:
        raise UnknownCode(column, value) from exc


def decode_optional(column: str, table: Mapping[int, V], value: object) -> V | None:
    """As `decode`, with NULL meaning "not recorded"."""
    return None if value is None else decode(column, table, value)
