"""NIK and family card (No. KK) numbers.

NIK: digits 1-6 the region where first registered, 7-8 day of birth (+40 for women),
9-10 month, 11-12 two-digit year, 13-16 a serial from 0001 among people sharing the first
twelve digits. No. KK: the issuing kecamatan (6), the issue date DDMMYY (6), a serial (4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

MALE = 1
FEMALE = 2


def nik_stem(prefix: str, birth_date: date, sex: int) -> str:
    """The first twelve digits of a NIK."""
    day = birth_date.day + (40 if sex == FEMALE else 0)
    return f"{prefix}{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}"


@dataclass(frozen=True, slots=True)
class NikParts:
    region: str
    day: int
    month: int
    year2: int
    sex: int
    serial: int


def parse_nik(nik: str) -> NikParts:
    """Split a NIK into its parts; raises ValueError when it cannot be a NIK."""
    if len(nik) != 16 or not nik.isdigit():
        raise ValueError(f"NIK must be 16 digits: {nik!r}")
    day = int(nik[6:8])
    sex = FEMALE if day > 40 else MALE
    day -= 40 if sex == FEMALE else 0
    month = int(nik[8:10])
    serial = int(nik[12:16])
    if not (1 <= day <= 31 and 1 <= month <= 12 and serial >= 1):
        raise ValueError(f"NIK has an impossible date or serial: {nik!r}")
    return NikParts(nik[:6], day, month, int(nik[10:12]), sex, serial)


def nik_agrees(nik: str, birth_date: date, sex: int) -> bool:
    """True when the NIK's birth date and sex agree with the record's."""
    try:
        parts = parse_nik(nik)
    except ValueError:
        return False
    return (
        parts.sex == sex
        and parts.day == birth_date.day
        and parts.month == birth_date.month
        and parts.year2 == birth_date.year % 100
    )


class SerialAllocator:
    """Hands out serials from 0001 per 12-digit stem, so every number is unique.

    Stems are kept as integers (about 70 bytes each): memory grows with the number of
    distinct stems, not with the rows generated.
    """

    def __init__(self) -> None:
        self._next: dict[int, int] = {}

    def allocate(self, stem: str) -> str:
        key = int(stem)
        serial = self._next.get(key, 1)
        if serial > 9999:
            raise OverflowError(f"no serial left for {stem}")
        self._next[key] = serial + 1
        return f"{stem}{serial:04d}"


def kk_stem(kecamatan_code: str, issued: date) -> str:
    return f"{kecamatan_code}{issued.day:02d}{issued.month:02d}{issued.year % 100:02d}"
