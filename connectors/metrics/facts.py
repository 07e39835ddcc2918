"""Case facts: pure functions from domain records to the view's rows.

Application (counted from a complete file, as the permit type's service level is):
- `due_date` = the service level in working days after the day the file was complete;
- `working_days` = working days from that day to the day it finished (or to today
  while it is open); `on_time` = finished no later than its due date;
- `overdue` = still open and today is past its due date.

Complaint (LAPOR! deadlines):
- verification = the first status after DITERIMA; met when it came within 3 working days
  of submission; missed when it came later or has not come and 3 working days passed;
- follow-up = the first DITINDAKLANJUTI (or recorded follow-up); met within 5 working
  days of the disposition, missed otherwise; not applicable until disposed.

The time-dependent facts (so far, overdue, missed) hold for `aged_on`; `age_*` recompute
them from the stored dates alone when the day changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from connectors.records import (
    APPLICATION_FINISHED,
    COMPLAINT_FINISHED,
    ApplicationRecord,
    ComplaintRecord,
    ComplaintStatus,
)
from connectors.workdays import WorkCalendar

WIB = ZoneInfo("Asia/Jakarta")

VERIFICATION_DAYS = 3
FOLLOW_UP_DAYS = 5


def local(moment: datetime | None) -> datetime | None:
    """A naive Asia/Jakarta wall-clock time (naive input is taken as already local)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(WIB).replace(tzinfo=None)


def _day(moment: datetime | None) -> date | None:
    at = local(moment)
    return at.date() if at is not None else None


@dataclass(frozen=True, slots=True)
class ApplicationTiming:
    working_days: int | None
    on_time: bool | None
    overdue: bool


def age_application(
    *,
    file_complete_on: date | None,
    due_date: date | None,
    finished_on: date | None,
    finished: bool,
    calendar: WorkCalendar,
    today: date,
) -> ApplicationTiming:
    if file_complete_on is None or due_date is None:
        return ApplicationTiming(None, None, False)
    if finished:
        end = finished_on or today
        return ApplicationTiming(calendar.working_days_between(file_complete_on, end), end <= due_date, False)
    return ApplicationTiming(calendar.working_days_between(file_complete_on, today), None, today > due_date)


def _finished_at(record: ApplicationRecord) -> datetime | None:
    if record.status not in APPLICATION_FINISHED:
        return None
    if record.finished_at is not None:
        return record.finished_at
    return record.history[-1].at if record.history else None


def application_fact(record: ApplicationRecord, calendar: WorkCalendar, today: date) -> dict[str, Any]:
    finished = record.status in APPLICATION_FINISHED
    finished_at = _finished_at(record)
    complete_on = _day(record.file_complete_at)
    due = (
        calendar.add_working_days(complete_on, record.permit_type.service_level_days)
        if complete_on is not None
        else None
    )
    timing = age_application(
        file_complete_on=complete_on,
        due_date=due,
        finished_on=_day(finished_at),
        finished=finished,
        calendar=calendar,
        today=today,
    )
    received = local(record.received_at)
    assert received is not None
    return {
        "number": record.number,
        "permit_type_code": record.permit_type.code,
        "permit_type_name": record.permit_type.name,
        "service_level_days": record.permit_type.service_level_days,
        "kelurahan_code": record.kelurahan_code,
        "status": record.status.value,
        "received_at": received,
        "received_on": received.date(),
        "file_complete_at": local(record.file_complete_at),
        "finished_at": local(finished_at),
        "finished": finished,
        "due_date": due,
        "working_days": timing.working_days,
        "on_time": timing.on_time,
        "overdue": timing.overdue,
        "aged_on": today,
    }


@dataclass(frozen=True, slots=True)
class ComplaintTiming:
    verification_days: int | None
    follow_up_days: int | None
    verified_in_time: bool | None
    followed_up_in_time: bool | None


def _deadline(days: int, limit: int, *, done: bool, closed: bool) -> bool | None:
    if days > limit:
        return False
    if done:
        return True
    return False if closed else None


def age_complaint(
    *,
    submitted_on: date,
    verified_on: date | None,
    disposed_on: date | None,
    followed_up_on: date | None,
    finished_on: date | None,
    calendar: WorkCalendar,
    today: date,
) -> ComplaintTiming:
    end = verified_on or finished_on or today
    verification = calendar.working_days_between(submitted_on, end)
    verified = _deadline(
        verification, VERIFICATION_DAYS, done=verified_on is not None, closed=finished_on is not None
    )
    if disposed_on is None:
        return ComplaintTiming(verification, None, verified, None)
    end = followed_up_on or finished_on or today
    follow_up = calendar.working_days_between(disposed_on, end)
    followed = _deadline(
        follow_up, FOLLOW_UP_DAYS, done=followed_up_on is not None, closed=finished_on is not None
    )
    return ComplaintTiming(verification, follow_up, verified, followed)


def _first(record: ComplaintRecord, statuses: frozenset[ComplaintStatus]) -> datetime | None:
    return next((change.at for change in record.history if change.status in statuses), None)


def _earliest(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return min(present) if present else None


_AFTER_RECEIPT = frozenset(set(ComplaintStatus) - {ComplaintStatus.RECEIVED})


def complaint_fact(record: ComplaintRecord, calendar: WorkCalendar, today: date) -> dict[str, Any]:
    verified_at = _first(record, _AFTER_RECEIPT)
    disposed_at = _earliest(
        _first(record, frozenset({ComplaintStatus.DISPOSED})),
        record.dispositions[0].at if record.dispositions else None,
    )
    followed_up_at = _earliest(
        _first(record, frozenset({ComplaintStatus.FOLLOWED_UP})),
        min((f.at for f in record.follow_ups), default=None),
    )
    resolved_at = _first(record, frozenset({ComplaintStatus.RESOLVED}))
    finished = record.status in COMPLAINT_FINISHED
    finished_at = (resolved_at or (record.history[-1].at if record.history else None)) if finished else None
    submitted = local(record.submitted_at)
    assert submitted is not None
    timing = age_complaint(
        submitted_on=submitted.date(),
        verified_on=_day(verified_at),
        disposed_on=_day(disposed_at),
        followed_up_on=_day(followed_up_at),
        finished_on=_day(finished_at),
        calendar=calendar,
        today=today,
    )
    return {
        "number": record.number,
        "category": record.category,
        "classification": record.classification.value,
        "kelurahan_code": record.kelurahan_code,
        "visibility": record.visibility.value,
        "status": record.status.value,
        "submitted_at": submitted,
        "submitted_on": submitted.date(),
        "verified_at": local(verified_at),
        "disposed_at": local(disposed_at),
        "followed_up_at": local(followed_up_at),
        "resolved_at": local(resolved_at) if finished else None,
        "closed_at": local(finished_at),
        "finished": finished,
        "verification_days": timing.verification_days,
        "follow_up_days": timing.follow_up_days,
        "verified_in_time": timing.verified_in_time,
        "followed_up_in_time": timing.followed_up_in_time,
        "aged_on": today,
    }
