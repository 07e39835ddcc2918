"""Times as the sample services keep them: naive Asia/Jakarta wall time in storage,
ISO 8601 with `+07:00` on the wire (API.md: "All times are ISO 8601 with offset")."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

JAKARTA = timezone(timedelta(hours=7), "WIB")


def parse_time(value: str | datetime) -> datetime:
    """An ISO string or datetime -> naive Jakarta time (naive input is taken as Jakarta)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(JAKARTA).replace(tzinfo=None)
    return moment


def parse_optional_time(value: str | datetime | None) -> datetime | None:
    return None if value is None else parse_time(value)


def format_time(value: datetime | None) -> str | None:
    return None if value is None else value.replace(tzinfo=JAKARTA).isoformat()


def now() -> datetime:
    return datetime.now(JAKARTA).replace(tzinfo=None)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min)


def day_after(day: date) -> datetime:
    """Start of the day after `day`: the exclusive upper bound of an inclusive date filter."""
    return datetime.combine(day + timedelta(days=1), time.min)
