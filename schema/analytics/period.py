"""A reporting period: local (Asia/Jakarta) days, both ends inclusive.

`PeriodInput` is shared by the aggregate root fields (satisfactionIndex, and whoever
else needs a date range); `Period` echoes the period a figure covers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import strawberry

from schema.errors import BadUserInput

DEFAULT_DAYS = 365
MAX_DAYS = 366 * 10


@dataclass(frozen=True, slots=True)
class DayRange:
    first: date
    last: date


@strawberry.input(description="Local days (Asia/Jakarta), both inclusive.")
class PeriodInput:
    from_: date = strawberry.field(name="from")
    to: date


@strawberry.type(description="The days a figure covers (Asia/Jakarta), both inclusive.")
class Period:
    from_: date = strawberry.field(name="from")
    to: date

    @classmethod
    def of(cls, days: DayRange) -> Period:
        return cls(from_=days.first, to=days.last)


def checked_period(period: PeriodInput | None, *, today: date, argument: str = "period") -> DayRange:
    """The period asked for, or the last `DEFAULT_DAYS` days up to today."""
    if period is None:
        return DayRange(today - timedelta(days=DEFAULT_DAYS - 1), today)
    if period.from_ > period.to:
        raise BadUserInput(f"`{argument}` ends before it starts", details={"argument": argument})
    if (period.to - period.from_).days >= MAX_DAYS:
        raise BadUserInput(f"`{argument}` may span at most ten years", details={"argument": argument})
    return DayRange(period.from_, period.to)
