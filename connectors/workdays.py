"""Working days: Monday to Friday minus Indonesian national holidays and collective leave.

Holidays come from the maintained `holidays` library (the `public` and `government`
categories: the latter holds cuti bersama, the collective leave days), never from a
hand-written list. Extra closures for a region are configuration.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import holidays


class WorkCalendar:
    """Answers are memoised per calendar (a due date is asked for on every request that
    shows an application; the holiday look-up is the cost)."""

    def __init__(self, *, country: str = "ID", extra_closures: Iterable[date] = ()) -> None:
        self._holidays = holidays.country_holidays(country, categories=("public", "government"))
        self._extra = frozenset(extra_closures)
        # each instance memoises its own bound methods (a cache on the class would keep
        # every calendar alive and mix calendars with different closures)
        self.is_working_day = lru_cache(maxsize=16_384)(self.is_working_day)  # type: ignore[method-assign]
        self.add_working_days = lru_cache(maxsize=65_536)(self.add_working_days)  # type: ignore[method-assign]
        self.working_days_between = lru_cache(maxsize=65_536)(self.working_days_between)  # type: ignore[method-assign]

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._holidays and day not in self._extra

    def holiday_name(self, day: date) -> str | None:
        return self._holidays.get(day)

    def add_working_days(self, start: date, days: int) -> date:
        """The date `days` working days after `start` (start itself not counted).

        A service level of N working days for a file completed on `start` is due at the
        end of the returned day.
        """
        if days < 0:
            raise ValueError("days must not be negative")
        current = start
        remaining = days
        while remaining:
            current += timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 if end <= start)."""
        if end <= start:
            return 0
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count
