"""The materialised view: backfill, change feed, ageing and the metric SQL, on SQLite
and on PostgreSQL (each test marked with the `store` fixture runs on both)."""

from __future__ import annotations

import statistics
from datetime import date, datetime

import pytest
from tests.support.metrics_cases import DELIMA, PBG, WIB, application, complaint, sqlite_store, store  # noqa: F401
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.errors import SourceUnavailable
from connectors.memory import InMemoryComplaintSource, InMemoryLicensingSource
from connectors.metrics import MetricsFilter, MetricsView, application_facts
from connectors.metrics.upsert import check_dialect
from connectors.records import ApplicationStatus, ComplaintStatus
from connectors.workdays import WorkCalendar

S = ComplaintStatus
CAL = WorkCalendar()
TODAY = date(2025, 4, 14)


def licensing_world(clock_day: date = date(2025, 4, 10)) -> InMemoryLicensingSource:
    apps = [
        application("A-ON-TIME", finished=date(2025, 4, 10)),  # 3 working days
        application("A-LATE", finished=date(2025, 4, 11)),  # 4
        application("A-OPEN", status=ApplicationStatus.SIGNED),  # open, overdue on 14 April
        application("A-PBG", permit=PBG, kelurahan=DELIMA, finished=date(2025, 4, 24)),  # 12
        application("A-NOFILE", complete=None),
    ]
    return InMemoryLicensingSource(apps, clock=lambda: datetime(clock_day.year, clock_day.month, clock_day.day, 16, tzinfo=WIB))


def complaints_world() -> InMemoryComplaintSource:
    return InMemoryComplaintSource(
        [
            complaint("C-FAST", steps=((S.VERIFIED, date(2025, 4, 8)), (S.DISPOSED, date(2025, 4, 8)),
                                       (S.FOLLOWED_UP, date(2025, 4, 9)))),
            complaint("C-SLOW", steps=((S.VERIFIED, date(2025, 4, 11)),), category="Kebersihan"),
            complaint("C-NEW", submitted=date(2025, 4, 10), kelurahan=DELIMA),
        ]
    )


async def test_the_first_refresh_copies_every_case_through_the_list_methods(store: AsyncEngine) -> None:
    licensing, complaints = licensing_world(), complaints_world()
    view = MetricsView(store)
    results = await view.refresh(licensing=licensing, complaints=complaints, calendar=CAL, today=TODAY)
    assert [(r.source_id, r.backfilled, r.written) for r in results] == [
        ("licensing", True, 5), ("complaints", True, 3)
    ]
    assert licensing.calls["list_applications"] == 1
    assert licensing.calls["applications_by_number"] == 0
    metrics = await view.service_metrics(MetricsFilter())
    a = metrics.applications.summary
    assert (a.total, a.finished, a.timed, a.on_time, a.backlog, a.overdue) == (5, 3, 3, 2, 2, 1)
    assert metrics.as_of is not None


async def test_a_status_change_reaches_the_view_through_the_change_feed(store: AsyncEngine) -> None:
    licensing = licensing_world(clock_day=date(2025, 4, 10))
    view = MetricsView(store)
    await view.refresh(licensing=licensing, calendar=CAL, today=TODAY)
    before = (await view.application_metrics(MetricsFilter())).summary
    await licensing.update_status("A-OPEN", ApplicationStatus.ISSUED, note=None, actor="test")

    (result,) = await view.refresh(licensing=licensing, calendar=CAL, today=TODAY)

    assert (result.backfilled, result.changes, result.written) == (False, 1, 1)
    assert licensing.calls["applications_by_number"] == 1
    assert licensing.calls["list_applications"] == 1  # no second backfill
    after = (await view.application_metrics(MetricsFilter())).summary
    assert (before.finished, before.on_time, before.overdue) == (3, 2, 1)
    assert (after.finished, after.on_time, after.overdue) == (4, 3, 0)  # issued on 10 April: on time


async def test_a_refresh_without_changes_reads_only_the_feed(store: AsyncEngine) -> None:
    licensing = licensing_world()
    view = MetricsView(store)
    await view.refresh(licensing=licensing, calendar=CAL, today=TODAY)
    (result,) = await view.refresh(licensing=licensing, calendar=CAL, today=TODAY)
    assert (result.changes, result.written, result.aged) == (0, 0, 0)
    assert licensing.calls["applications_by_number"] == 0


async def test_open_cases_are_aged_when_the_day_changes(sqlite_store: AsyncEngine) -> None:
    licensing, complaints = licensing_world(), complaints_world()
    view = MetricsView(sqlite_store)
    await view.refresh(licensing=licensing, complaints=complaints, calendar=CAL, today=date(2025, 4, 10))
    early = await view.service_metrics(MetricsFilter())
    results = await view.refresh(licensing=licensing, complaints=complaints, calendar=CAL, today=date(2025, 4, 16))
    late = await view.service_metrics(MetricsFilter())
    assert [r.aged for r in results] == [2, 3]  # A-OPEN, A-NOFILE; every open complaint
    assert (early.applications.summary.overdue, late.applications.summary.overdue) == (0, 1)
    # C-NEW, submitted 10 April and still unverified, has missed its 3 working days by 16 April
    assert (early.complaints.summary.verification_due, late.complaints.summary.verification_due) == (2, 3)


async def test_a_failing_source_does_not_stop_the_other(sqlite_store: AsyncEngine) -> None:
    licensing, complaints = licensing_world(), complaints_world()
    licensing.failure = SourceUnavailable("licensing", "down")
    view = MetricsView(sqlite_store)
    with pytest.raises(SourceUnavailable):
        await view.refresh(licensing=licensing, complaints=complaints, calendar=CAL, today=TODAY)
    assert (await view.complaint_metrics(MetricsFilter())).summary.total == 3
    assert set((await view.freshness()).refreshed_at) == {"complaints"}
    licensing.failure = None
    (result,) = await view.refresh(licensing=licensing, calendar=CAL, today=TODAY)
    assert result.backfilled is True


async def test_metrics_count_by_status_category_and_deadline(store: AsyncEngine) -> None:
    view = MetricsView(store)
    await view.refresh(licensing=licensing_world(), complaints=complaints_world(), calendar=CAL, today=TODAY)
    metrics = await view.service_metrics(MetricsFilter())
    a, c = metrics.applications, metrics.complaints
    assert {s.status: s.count for s in a.by_status} == {"ISSUED": 3, "SIGNED": 1, "DATA_ENTRY": 1}
    by_type = {s.key: s for s in a.by_permit_type}
    assert (by_type["IUMK"].total, by_type["IUMK"].on_time, by_type["IUMK"].late) == (4, 1, 1)
    assert (by_type["PBG"].name, by_type["PBG"].service_level_days, by_type["PBG"].on_time) == (
        "Persetujuan Bangunan Gedung", 20, 1)
    assert by_type["IUMK"].on_time_share == 0.5
    assert {s.key: s.total for s in c.by_category} == {"Infrastruktur": 2, "Kebersihan": 1}
    s = c.summary
    # C-FAST verified in 1 working day, C-SLOW in 4 (missed); C-NEW (10 April) is pending: 11, 14 April
    assert (s.verification_due, s.verified_in_time) == (2, 1)
    assert (s.follow_up_due, s.followed_up_in_time) == (1, 1)
    assert s.median_verification_days == 2.5  # 1 and 4


async def test_filters_narrow_by_period_kelurahan_permit_type_and_category(store: AsyncEngine) -> None:
    view = MetricsView(store)
    await view.refresh(licensing=licensing_world(), complaints=complaints_world(), calendar=CAL, today=TODAY)
    delima = await view.service_metrics(MetricsFilter(kelurahan_codes=(DELIMA,)))
    assert (delima.applications.summary.total, delima.complaints.summary.total) == (1, 1)
    pbg = await view.application_metrics(MetricsFilter(permit_types=("PBG",)))
    assert pbg.summary.total == 1 and pbg.summary.median_working_days == 12
    clean = await view.complaint_metrics(MetricsFilter(categories=("Kebersihan",)))
    assert clean.summary.total == 1
    april = await view.service_metrics(MetricsFilter(received_from=date(2025, 4, 1), received_to=date(2025, 4, 30)))
    assert (april.applications.summary.total, april.complaints.summary.total) == (0, 1)
    nothing = await view.application_metrics(MetricsFilter(received_to=date(2024, 1, 1)))
    assert (nothing.summary.total, nothing.summary.median_working_days, nothing.by_permit_type) == (0, None, [])


@pytest.mark.parametrize("days", [[7], [1, 2], [5, 1, 3], [4, 4, 9, 1, 0, 12, 3], list(range(1, 101))])
async def test_percentiles_interpolate_between_ranks(store: AsyncEngine, days: list[int]) -> None:
    records = []
    for i, n in enumerate(days):
        end = CAL.add_working_days(date(2025, 5, 2), n)
        records.append(application(f"P-{i:03d}", complete=date(2025, 5, 2), finished=end, permit=PBG))
    view = MetricsView(store)
    await view.refresh(licensing=InMemoryLicensingSource(records), calendar=CAL, today=date(2026, 1, 5))
    summary = (await view.application_metrics(MetricsFilter())).summary
    assert summary.median_working_days == pytest.approx(statistics.median(days))
    expected_p90 = statistics.quantiles(days, n=10, method="inclusive")[-1] if len(days) > 1 else days[0]
    assert summary.p90_working_days == pytest.approx(expected_p90)


async def test_percentiles_are_computed_per_group_in_one_pass(store: AsyncEngine) -> None:
    records = [
        application(f"G-{i}", complete=date(2025, 5, 2), finished=CAL.add_working_days(date(2025, 5, 2), n),
                    permit=PBG if i % 2 else application("x").permit_type)
        for i, n in enumerate([1, 10, 2, 20, 3, 30, 4])
    ]
    view = MetricsView(store)
    await view.refresh(licensing=InMemoryLicensingSource(records), calendar=CAL, today=date(2026, 1, 5))
    by_type = {s.key: s for s in (await view.application_metrics(MetricsFilter())).by_permit_type}
    assert by_type["IUMK"].median_working_days == 2.5  # 1, 2, 3, 4
    assert by_type["PBG"].median_working_days == 20  # 10, 20, 30
    assert by_type["PBG"].p90_working_days == pytest.approx(28)


async def test_the_view_never_holds_names_or_niks(sqlite_store: AsyncEngine) -> None:
    view = MetricsView(sqlite_store)
    await view.refresh(licensing=licensing_world(), complaints=complaints_world(), calendar=CAL, today=TODAY)
    async with sqlite_store.connect() as conn:
        columns = set(application_facts.c.keys())
        assert (await conn.execute(select(func.count()).select_from(application_facts))).scalar_one() == 5
    assert not columns & {"applicant_nik", "applicant_name", "company_name", "business_address"}


def test_the_view_refuses_an_unsupported_database() -> None:
    with pytest.raises(ValueError, match="SQLite or PostgreSQL"):
        check_dialect("mysql")
