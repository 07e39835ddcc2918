"""Case facts against working days counted by hand across the 2025 Idul Fitri closure:
28 March (Nyepi collective leave) and 31 March - 7 April (Idul Fitri and collective
leave) are closed, so the first working days after Thursday 27 March are 8, 9, 10 April."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from tests.support.metrics_cases import application, complaint

from connectors.metrics import application_fact, complaint_fact
from connectors.records import ApplicationStatus, ComplaintStatus
from connectors.workdays import WorkCalendar

S = ComplaintStatus


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    return WorkCalendar()


def test_an_application_finished_on_its_due_date_across_the_closure_is_on_time(calendar: WorkCalendar) -> None:
    fact = application_fact(application("A-1", finished=date(2025, 4, 10)), calendar, date(2025, 5, 1))
    assert fact["due_date"] == date(2025, 4, 10)  # IUMK: 3 working days after 27 March
    assert fact["working_days"] == 3
    assert fact["on_time"] is True
    assert fact["overdue"] is False
    assert fact["finished"] is True


def test_an_application_finished_a_day_late_is_late_not_overdue(calendar: WorkCalendar) -> None:
    fact = application_fact(application("A-2", finished=date(2025, 4, 11)), calendar, date(2025, 5, 1))
    assert (fact["working_days"], fact["on_time"], fact["overdue"]) == (4, False, False)


@pytest.mark.parametrize(
    ("today", "elapsed", "overdue"),
    [
        pytest.param(date(2025, 4, 7), 0, False, id="still-in-the-closure"),
        pytest.param(date(2025, 4, 10), 3, False, id="on-the-due-date"),
        pytest.param(date(2025, 4, 14), 5, True, id="two-working-days-past"),
    ],
)
def test_an_open_application_counts_working_days_so_far(
    calendar: WorkCalendar, today: date, elapsed: int, overdue: bool
) -> None:
    fact = application_fact(application("A-3"), calendar, today)
    assert (fact["working_days"], fact["on_time"], fact["overdue"]) == (elapsed, None, overdue)
    assert fact["aged_on"] == today


def test_an_application_without_a_complete_file_has_no_service_level_clock(calendar: WorkCalendar) -> None:
    fact = application_fact(application("A-4", complete=None), calendar, date(2025, 6, 1))
    assert (fact["due_date"], fact["working_days"], fact["on_time"], fact["overdue"]) == (None, None, None, False)


def test_times_are_stored_as_jakarta_wall_clock(calendar: WorkCalendar) -> None:
    record = application("A-5")
    utc = datetime(2025, 3, 26, 18, 0, tzinfo=UTC)  # 27 March 01:00 in Jakarta
    from dataclasses import replace

    fact = application_fact(replace(record, file_complete_at=utc), calendar, date(2025, 5, 1))
    assert fact["file_complete_at"] == datetime(2025, 3, 27, 1, 0)
    assert fact["due_date"] == date(2025, 4, 10)


def test_a_rejected_application_is_finished(calendar: WorkCalendar) -> None:
    record = application("A-6", finished=date(2025, 4, 8), status=ApplicationStatus.REJECTED)
    fact = application_fact(record, calendar, date(2025, 5, 1))
    assert fact["finished"] is True and fact["status"] == "REJECTED"
    assert fact["working_days"] == 1


def test_a_complaint_verified_in_two_working_days_and_followed_up_in_six(calendar: WorkCalendar) -> None:
    record = complaint(
        "C-1",
        steps=((S.VERIFIED, date(2025, 4, 9)), (S.DISPOSED, date(2025, 4, 9)),
               (S.FOLLOWED_UP, date(2025, 4, 17))),
    )
    fact = complaint_fact(record, calendar, date(2025, 5, 1))
    assert fact["verified_at"] == datetime(2025, 4, 9, 10)
    assert fact["verification_days"] == 2  # 8 and 9 April
    assert fact["verified_in_time"] is True
    assert fact["follow_up_days"] == 6  # 10, 11, 14, 15, 16, 17 April
    assert fact["followed_up_in_time"] is False


def test_the_first_status_after_receipt_counts_as_verification(calendar: WorkCalendar) -> None:
    record = complaint("C-2", steps=((S.POSTPONED, date(2025, 4, 10)), (S.VERIFIED, date(2025, 4, 21))))
    fact = complaint_fact(record, calendar, date(2025, 5, 1))
    assert fact["verified_at"] == datetime(2025, 4, 10, 10)
    assert (fact["verification_days"], fact["verified_in_time"]) == (3, True)
    assert fact["followed_up_in_time"] is None  # never disposed: not applicable


@pytest.mark.parametrize(
    ("today", "verdict"),
    [
        pytest.param(date(2025, 4, 10), None, id="pending-within-3-days"),
        pytest.param(date(2025, 4, 11), False, id="missed-after-3-days"),
    ],
)
def test_an_unverified_complaint_misses_its_deadline_only_after_3_working_days(
    calendar: WorkCalendar, today: date, verdict: bool | None
) -> None:
    fact = complaint_fact(complaint("C-3"), calendar, today)
    assert fact["verified_in_time"] is verdict
    assert fact["verified_at"] is None and fact["finished"] is False


def test_a_recorded_follow_up_counts_even_before_the_status_changes(calendar: WorkCalendar) -> None:
    record = complaint(
        "C-4",
        steps=((S.VERIFIED, date(2025, 4, 8)), (S.DISPOSED, date(2025, 4, 8))),
        follow_ups=(date(2025, 4, 15),),
    )
    fact = complaint_fact(record, calendar, date(2025, 5, 1))
    assert (fact["follow_up_days"], fact["followed_up_in_time"]) == (5, True)


def test_a_resolved_complaint_records_when_it_closed(calendar: WorkCalendar) -> None:
    record = complaint(
        "C-5",
        steps=((S.VERIFIED, date(2025, 4, 8)), (S.DISPOSED, date(2025, 4, 8)),
               (S.FOLLOWED_UP, date(2025, 4, 9)), (S.RESOLVED, date(2025, 4, 24))),
    )
    fact = complaint_fact(record, calendar, date(2025, 5, 1))
    assert fact["finished"] is True
    assert fact["resolved_at"] == fact["closed_at"] == datetime(2025, 4, 24, 10)
