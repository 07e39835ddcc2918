from __future__ import annotations

from datetime import date

import pytest

from connectors.workdays import WorkCalendar


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    return WorkCalendar()


def test_weekends_are_not_working_days(calendar: WorkCalendar) -> None:
    assert not calendar.is_working_day(date(2025, 3, 1))  # Saturday
    assert not calendar.is_working_day(date(2025, 3, 2))  # Sunday
    assert calendar.is_working_day(date(2025, 3, 3))  # Monday


def test_national_holidays_and_collective_leave_are_not_working_days(calendar: WorkCalendar) -> None:
    assert not calendar.is_working_day(date(2025, 8, 18))  # cuti bersama after Independence Day
    assert not calendar.is_working_day(date(2025, 3, 31))  # Idul Fitri
    assert not calendar.is_working_day(date(2025, 4, 7))  # cuti bersama Idul Fitri (a Monday)
    assert calendar.holiday_name(date(2025, 8, 17)) is not None


def test_a_due_date_skips_the_idul_fitri_holidays(calendar: WorkCalendar) -> None:
    # File complete on Thursday 27 March 2025; 28 March and 31 March-7 April are closed.
    assert calendar.add_working_days(date(2025, 3, 27), 3) == date(2025, 4, 10)


def test_a_due_date_over_a_plain_week_is_five_working_days_later(calendar: WorkCalendar) -> None:
    assert calendar.add_working_days(date(2025, 10, 6), 5) == date(2025, 10, 13)


def test_working_days_between_counts_the_end_day_not_the_start(calendar: WorkCalendar) -> None:
    assert calendar.working_days_between(date(2025, 10, 6), date(2025, 10, 13)) == 5
    assert calendar.working_days_between(date(2025, 10, 13), date(2025, 10, 6)) == 0


def test_extra_regional_closures_come_from_configuration() -> None:
    closed = date(2025, 10, 8)
    calendar = WorkCalendar(extra_closures=[closed])
    assert not calendar.is_working_day(closed)
    assert calendar.add_working_days(date(2025, 10, 6), 5) == date(2025, 10, 14)


def test_negative_days_are_refused(calendar: WorkCalendar) -> None:
    with pytest.raises(ValueError):
        calendar.add_working_days(date(2025, 10, 6), -1)
