"""Masks: pure functions that reduce a personal value to what a role may see.

Each mask takes the raw value and returns the masked one; ``None`` stays ``None``.
A mask never leaks what it cannot parse: a value of an unexpected shape is hidden
entirely rather than passed through.

    nik       1471081234560001 -> 147108******0001   (six region digits, last four)
    kk        family card number, same rule as nik
    year      date(1990, 5, 17) or "1990-05-17" -> "1990"
    initials  "Siti Rahmawati" -> "S. R."
    redact    anything -> None

`in_text` masks every 16-digit number (NIK or family card number) inside free text such
as an error message, which no field mask shapes.

`MASKS` maps the names a policy file may use to the functions; the policy loader
rejects any other name. `MASK_DISCLOSURE` orders them from least to most revealing,
so that when two roles mask the same field differently the more permissive one wins.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

Mask = Callable[[Any], Any]

_NUMBER_LENGTH = 16  # NIK and family card number
_KEEP_HEAD = 6
_KEEP_TAIL = 4


def nik(value: Any) -> str | None:
    """Keep the six region digits and the last four of a 16-digit number."""
    if value is None:
        return None
    text = str(value).strip()
    if len(text) != _NUMBER_LENGTH or not text.isdigit():
        return "*" * _NUMBER_LENGTH  # unexpected shape: hide it all, keep the width
    hidden = _NUMBER_LENGTH - _KEEP_HEAD - _KEEP_TAIL
    return text[:_KEEP_HEAD] + "*" * hidden + text[-_KEEP_TAIL:]


def kk(value: Any) -> str | None:
    """A family card number (No. KK) is masked like a NIK."""
    return nik(value)


def year(value: Any) -> str | None:
    """Reduce a date (or an ISO date string) to its four-digit year."""
    if value is None:
        return None
    if isinstance(value, (date, datetime)):
        return f"{value.year:04d}"
    if isinstance(value, str):
        head = value.strip()[:4]
        if len(head) == 4 and head.isdigit():
            return head
    return None  # unparseable: withhold


def initials(value: Any) -> str | None:
    """Each word of a name reduced to its first letter: "Siti Rahmawati" -> "S. R."."""
    if value is None:
        return None
    if not isinstance(value, str):
        return None
    letters = (next((ch for ch in word if ch.isalnum()), "") for word in value.split())
    return " ".join(f"{letter.upper()}." for letter in letters if letter)


_SIXTEEN_DIGITS = re.compile(r"(?<![0-9])[0-9]{16}(?![0-9])")


def in_text(text: str) -> str:
    """`text` with every 16-digit number in it masked like a NIK: a source's error
    message may quote the keys it was asked for, which the caller may not see."""
    return _SIXTEEN_DIGITS.sub(lambda found: nik(found.group()) or "", text)


def redact(value: Any) -> None:
    """Withhold the value entirely."""
    return None


MASKS: Mapping[str, Mask] = MappingProxyType(
    {"nik": nik, "kk": kk, "year": year, "initials": initials, "redact": redact}
)

#: Mask names from least to most revealing.
MASK_DISCLOSURE: tuple[str, ...] = ("redact", "initials", "year", "kk", "nik")


def apply_mask(name: str, value: Any) -> Any:
    """Apply the mask called `name` (a KeyError for an unknown name is a bug: the
    policy loader has already checked every name)."""
    return MASKS[name](value)


def disclosure_rank(name: str) -> int:
    """Higher reveals more; unknown names rank lowest."""
    try:
        return MASK_DISCLOSURE.index(name) + 1
    except ValueError:
        return 0
