"""NIK (Nomor Induk Kependudukan) parsing and validation.

A NIK has 16 digits: 1-6 the region where first registered (province, regency/city,
district), 7-8 the day of birth plus 40 for women, 9-10 the month, 11-12 the two-digit
year, 13-16 a serial from 0001. There is no checksum. The region digits say where the
person was first registered, not where they live now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from connectors.errors import ConnectorPackageError
from connectors.records import Sex


class InvalidNik(ConnectorPackageError, ValueError):
    """A NIK that is not 16 digits or whose date part is impossible."""

    code = "BAD_USER_INPUT"


@dataclass(frozen=True, slots=True)
class NikParts:
    region: str  # six digits
    sex: Sex
    day: int
    month: int
    year2: int  # two-digit year; the century is ambiguous on its own
    serial: str

    def birth_date(self, *, today: date) -> date:
        """The birth date, taking the century that puts it in the past."""
        year = 2000 + self.year2
        if year > today.year:
            year -= 100
        return date(year, self.month, self.day)

    def agrees_with(self, birth_date: date, sex: Sex) -> bool:
        return (
            self.sex is sex
            and birth_date.day == self.day
            and birth_date.month == self.month
            and birth_date.year % 100 == self.year2
        )


def parse_nik(value: str) -> NikParts:
    if len(value) != 16 or not value.isascii() or not value.isdigit():
        raise InvalidNik("a NIK has exactly 16 digits")
    day = int(value[6:8])
    sex = Sex.MALE
    if day > 40:
        day -= 40
        sex = Sex.FEMALE
    month = int(value[8:10])
    year2 = int(value[10:12])
    serial = value[12:16]
    if serial == "0000":
        raise InvalidNik("a NIK's serial (last four digits) starts at 0001")
    if value[:2] == "00" or value[2:4] == "00" or value[4:6] == "00":
        raise InvalidNik("a NIK's first six digits must be a region code")
    try:
        # A leap year that fits the two digits exists in any century except for 29 Feb
        # of 00 in 1900; 2000 is a leap year, so checking against 2000+year2 is exact.
        date(2000 + year2, month, day)
    except ValueError as exc:
        raise InvalidNik(f"a NIK's date part {value[6:12]} is not a valid birth date") from exc
    return NikParts(value[:6], sex, day, month, year2, serial)


def is_valid_nik(value: str) -> bool:
    try:
        parse_nik(value)
    except InvalidNik:
        return False
    return True


def is_valid_family_number(value: str) -> bool:
    return len(value) == 16 and value.isascii() and value.isdigit()
