"""A status history built step by step on office hours, cut at the generation moment."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from demo.generator.calendar import WIB, WorkCalendar

#: Suffix alphabet without look-alikes (0/O, 1/I).
SUFFIX_ALPHABET = "".join(c for c in string.digits + string.ascii_uppercase if c not in "01IO")


def random_suffix(rng: random.Random, length: int) -> str:
    return "".join(rng.choices(SUFFIX_ALPHABET, k=length))


@dataclass(slots=True)
class Timeline:
    calendar: WorkCalendar
    moment: datetime
    steps: list[dict[str, Any]] = field(default_factory=list)

    def at(self, status: str, moment: datetime, **extra: Any) -> datetime:
        self.moment = moment
        self.steps.append({"status": status, "waktu": moment, **extra})
        return moment

    def after(self, status: str, minutes: float, **extra: Any) -> datetime:
        """Append `status` `minutes` of office time after the previous step."""
        return self.at(status, self.calendar.add_working_minutes(self.moment, minutes), **extra)

    def until(self, now: datetime) -> list[dict[str, Any]]:
        return [s for s in self.steps if s["waktu"] <= now]


def random_office_moment(rng: random.Random, calendar: WorkCalendar, start: date,
                         end: date) -> datetime:
    """A moment in office hours on a working day between `start` and `end`."""
    span = (end - start).days
    while True:
        day = date.fromordinal(start.toordinal() + rng.randint(0, span))
        if calendar.is_working_day(day):
            break
    minutes = rng.randint(0, 7 * 60 + 30)
    return datetime.combine(day, time(8, 0), WIB).replace(
        hour=8 + minutes // 60, minute=minutes % 60, second=rng.randint(0, 59))


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")
