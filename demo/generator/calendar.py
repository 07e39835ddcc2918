"""Working time in Indonesian government offices.

Working days are Monday to Friday minus national holidays and collective leave (cuti
bersama), as the `holidays` library knows them; office hours are 08:00-16:00 WIB.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import holidays

WIB = timezone(timedelta(hours=7))
OPEN = time(8, 0)
CLOSE = time(16, 0)
MINUTES_PER_DAY = 8 * 60


class WorkCalendar:
    def __init__(self, *, first_year: int, last_year: int) -> None:
        self._holidays = frozenset(
            holidays.country_holidays("ID", years=range(first_year, last_year + 1)).keys()
        )

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._holidays

    def next_working_day(self, day: date) -> date:
        """The first working day after `day`."""
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def on_or_after(self, day: date) -> date:
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def on_or_before(self, day: date) -> date:
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def add_working_days(self, day: date, days: int) -> date:
        for _ in range(days):
            day = self.next_working_day(day)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end`."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def open_moment(self, moment: datetime) -> datetime:
        """`moment` if the office is open then, else the next opening time."""
        day = moment.date()
        if self.is_working_day(day) and OPEN <= moment.time() < CLOSE:
            return moment
        if self.is_working_day(day) and moment.time() < OPEN:
            return datetime.combine(day, OPEN, WIB)
        return datetime.combine(self.next_working_day(day), OPEN, WIB)

    def add_working_minutes(self, moment: datetime, minutes: float) -> datetime:
        """Advance through office hours only; the result is always within them."""
        moment = self.open_moment(moment)
        remaining = max(1.0, minutes)
        while True:
            close = datetime.combine(moment.date(), CLOSE, WIB)
            left_today = (close - moment).total_seconds() / 60
            if remaining < left_today:
                return (moment + timedelta(minutes=remaining)).replace(microsecond=0)
            remaining -= left_today
            moment = datetime.combine(self.next_working_day(moment.date()), OPEN, WIB)

    def is_office_hours(self, moment: datetime) -> bool:
        local = moment.astimezone(WIB)
        return self.is_working_day(local.date()) and OPEN <= local.time() < CLOSE
