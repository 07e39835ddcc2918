"""`performanceReport`: the metrics of a month or a year per service and kelurahan, the
satisfaction index, achievements and areas that fall behind, with small-count
suppression (`schema.analytics.suppression`) so that it can be public.

The builder reads the materialised view (`MetricsView`) and an optional satisfaction
lookup; it never sees a record, so nothing personal can reach the report.
"""

from __future__ import annotations

import calendar as month_calendar
from collections.abc import Sequence
from datetime import date
from typing import Any

from connectors import metrics as m
from schema.analytics.period import DayRange
from schema.analytics.report_findings import findings
from schema.analytics.report_types import (
    CategoryReport,
    CountFigure,
    KelurahanReport,
    PerformanceReport,
    RateFigure,
    ReportApplications,
    ReportComplaints,
    ReportPeriod,
    ReportSatisfaction,
    ReportSatisfactionElement,
    ServiceReport,
)
from schema.analytics.service import SatisfactionLookup
from schema.analytics.suppression import Partition, Row, suppress_table
from schema.errors import BadUserInput
from schema.region import Region

MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
          "September", "Oktober", "November", "Desember")
FIRST_YEAR, LAST_YEAR = 2000, 2100

APPLICATION_PARTITIONS = (
    Partition("state", "total", ("finished", "backlog")),
    Partition("open", "backlog", ("overdue", "open_in_time")),
    Partition("timeliness", "finished", ("on_time", "late", "untimed")),
)
COMPLAINT_PARTITIONS = (
    Partition("state", "total", ("finished", "backlog")),
    Partition("verification", "total", ("verified", "verification_missed", "verification_pending")),
    Partition("follow_up", "total", ("followed_up", "follow_up_missed", "follow_up_other")),
)

SUPPRESSION_RULE = (
    "Groups with 1 to {k}-1 cases are not shown. Within a group, when any part of a breakdown "
    "(finished/backlog, overdue/open in time, on time/late/without a complete file, deadline "
    "met/missed/pending) holds 1 to {k}-1 cases, every part of that breakdown is hidden. When "
    "only one group hides a figure, the same figure is hidden in the smallest other group, so "
    "that no hidden figure follows from the totals by subtraction. Shares and times are shown "
    "only over at least {k} cases and when the counts they rest on are shown."
)


def report_days(year: int, month: int | None) -> DayRange:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise BadUserInput(f"`period.year` must lie between {FIRST_YEAR} and {LAST_YEAR}",
                           details={"argument": "period.year"})
    if month is None:
        return DayRange(date(year, 1, 1), date(year, 12, 31))
    if not 1 <= month <= 12:
        raise BadUserInput("`period.month` must lie between 1 and 12", details={"argument": "period.month"})
    return DayRange(date(year, month, 1), date(year, month, month_calendar.monthrange(year, month)[1]))


# -- counts into suppressible rows ----------------------------------------------------


def application_row(s: m.ApplicationSummary) -> Row:
    return Row(s.key, {
        "total": s.total, "finished": s.finished, "backlog": s.backlog, "overdue": s.overdue,
        "open_in_time": s.backlog - s.overdue, "on_time": s.on_time, "late": s.late,
        "untimed": s.finished - s.timed,
    })


def complaint_row(s: m.ComplaintSummary) -> Row:
    return Row(s.key, {
        "total": s.total, "finished": s.finished, "backlog": s.backlog,
        "verified": s.verified_in_time,
        "verification_missed": s.verification_due - s.verified_in_time,
        "verification_pending": s.total - s.verification_due,
        "followed_up": s.followed_up_in_time,
        "follow_up_missed": s.follow_up_due - s.followed_up_in_time,
        "follow_up_other": s.total - s.follow_up_due,
    })


def _count(row: Row, name: str, partitions: Sequence[Partition]) -> CountFigure:
    if row.shows(name, partitions):
        return CountFigure(value=row.counts[name], suppressed=False)
    return CountFigure(value=None, suppressed=True)


def _rate(value: float | None, *, shown: bool, base: int, minimum: int) -> RateFigure:
    if value is None:
        return RateFigure(value=None, suppressed=False)
    if not shown or base < minimum:
        return RateFigure(value=None, suppressed=True)
    return RateFigure(value=value, suppressed=False)


def application_figures(s: m.ApplicationSummary, row: Row, minimum: int) -> ReportApplications:
    p = APPLICATION_PARTITIONS
    timeliness = row.shows_partition(p[2])
    shown = not row.suppressed
    return ReportApplications(
        suppressed=row.suppressed,
        total=_count(row, "total", p),
        finished=_count(row, "finished", p),
        backlog=_count(row, "backlog", p),
        overdue=_count(row, "overdue", p),
        on_time=_count(row, "on_time", p),
        late=_count(row, "late", p),
        on_time_share=_rate(s.on_time_share, shown=timeliness, base=s.timed, minimum=minimum),
        median_working_days=_rate(s.median_working_days, shown=shown, base=s.timed, minimum=minimum),
        p90_working_days=_rate(s.p90_working_days, shown=shown, base=s.timed, minimum=minimum),
    )


def complaint_figures(s: m.ComplaintSummary, row: Row, minimum: int) -> ReportComplaints:
    p = COMPLAINT_PARTITIONS
    return ReportComplaints(
        suppressed=row.suppressed,
        total=_count(row, "total", p),
        finished=_count(row, "finished", p),
        backlog=_count(row, "backlog", p),
        verified_within_3_days=_count(row, "verified", p),
        verified_within_3_days_share=_rate(
            s.verification_share, shown=row.shows_partition(p[1]), base=s.verification_due, minimum=minimum
        ),
        followed_up_within_5_days=_count(row, "followed_up", p),
        followed_up_within_5_days_share=_rate(
            s.follow_up_share, shown=row.shows_partition(p[2]), base=s.follow_up_due, minimum=minimum
        ),
    )


def satisfaction_figures(found: dict[str, Any] | None, row: Row | None) -> ReportSatisfaction | None:
    if found is None or row is None:
        return None
    if row.suppressed:
        return ReportSatisfaction(
            suppressed=True, respondents=CountFigure(value=None, suppressed=True),
            refused=CountFigure(value=None, suppressed=True),
            index=RateFigure(value=None, suppressed=True), grade=None, grade_label=None, elements=[],
        )
    return ReportSatisfaction(
        suppressed=False,
        respondents=CountFigure(value=int(found["respondents"]), suppressed=False),
        refused=CountFigure(value=int(found["refused"]) if "refused" in found else None, suppressed=False),
        index=RateFigure(value=float(found["index"]), suppressed=False),
        grade=str(found["grade"]),
        grade_label=str(found.get("gradeLabel") or ""),
        elements=[
            ReportSatisfactionElement(code=str(e["code"]), name=str(e["name"]), nrr=float(e["nrr"]))
            for e in found.get("elements", [])
        ],
    )


# -- the report -----------------------------------------------------------------------


def _period(days: DayRange, year: int, month: int | None) -> ReportPeriod:
    label = f"{MONTHS[month - 1]} {year}" if month else f"Tahun {year}"
    return ReportPeriod(year=year, month=month, label=label, from_=days.first, to=days.last)


async def _satisfaction(
    lookup: SatisfactionLookup | None, codes: Sequence[str], days: DayRange, minimum: int
) -> tuple[ReportSatisfaction | None, dict[str, ReportSatisfaction | None]]:
    if lookup is None:
        return None, {}
    overall = await lookup(None, days)
    found = {code: await lookup(code, days) for code in codes}
    rows = {code: Row(code, {"total": int(r["respondents"]) if r else 0}) for code, r in found.items()}
    overall_row = Row(None, {"total": int(overall["respondents"]) if overall else 0})
    suppress_table(overall_row, [r for r in rows.values() if r.total], (), minimum)
    return (
        satisfaction_figures(overall, overall_row),
        {code: satisfaction_figures(found[code], rows[code]) for code in codes},
    )


async def build_report(
    view: m.MetricsView,
    *,
    year: int,
    month: int | None,
    region: Region,
    minimum: int,
    satisfaction: SatisfactionLookup | None = None,
) -> PerformanceReport:
    days = report_days(year, month)
    flt = m.MetricsFilter(received_from=days.first, received_to=days.last)
    # freshness first: a refresh that lands while the figures are read makes them newer
    # than `asOf` says, never older (read last, an empty view could be called fresh)
    freshness = await view.freshness()
    apps = await view.application_metrics(flt, by_kelurahan=True)
    cmps = await view.complaint_metrics(flt, by_kelurahan=True)

    app_all = application_row(apps.summary)
    app_types = [application_row(s) for s in apps.by_permit_type]
    app_kel = {s.key: application_row(s) for s in apps.by_kelurahan}
    suppress_table(app_all, app_types, APPLICATION_PARTITIONS, minimum)
    suppress_table(app_all, list(app_kel.values()), APPLICATION_PARTITIONS, minimum)
    cmp_all = complaint_row(cmps.summary)
    cmp_cats = [complaint_row(s) for s in cmps.by_category]
    cmp_kel = {s.key: complaint_row(s) for s in cmps.by_kelurahan}
    suppress_table(cmp_all, cmp_cats, COMPLAINT_PARTITIONS, minimum)
    suppress_table(cmp_all, list(cmp_kel.values()), COMPLAINT_PARTITIONS, minimum)

    codes = [s.key or "" for s in apps.by_permit_type]
    overall_satisfaction, per_service = await _satisfaction(satisfaction, codes, days, minimum)

    services = [
        ServiceReport(
            code=s.key or "", name=s.name or s.key or "", service_level_days=s.service_level_days,
            applications=application_figures(s, row, minimum),
            satisfaction=per_service.get(s.key or ""),
        )
        for s, row in zip(apps.by_permit_type, app_types)
    ]
    app_by_code = {s.key: s for s in apps.by_kelurahan}
    cmp_by_code = {s.key: s for s in cmps.by_kelurahan}
    kelurahan = []
    for code in sorted(set(region.kelurahan) | set(app_by_code) | set(cmp_by_code), key=str):
        info = region.kelurahan_named(code or "")
        a = app_by_code.get(code) or m.ApplicationSummary(code, None, 0, 0, 0, 0, 0, 0, None, None)
        c = cmp_by_code.get(code) or m.ComplaintSummary(code, 0, 0, 0, 0, 0, 0, 0, None)
        kelurahan.append(KelurahanReport(
            code=info.code, name=info.name, kecamatan=info.kecamatan,
            applications=application_figures(a, app_kel.get(code) or application_row(a), minimum),
            complaints=complaint_figures(c, cmp_kel.get(code) or complaint_row(c), minimum),
        ))
    categories = [
        CategoryReport(category=s.key or "", complaints=complaint_figures(s, row, minimum))
        for s, row in zip(cmps.by_category, cmp_cats)
    ]
    applications = application_figures(apps.summary, app_all, minimum)
    complaints = complaint_figures(cmps.summary, cmp_all, minimum)
    achievements, behind = findings(
        applications=applications, complaints=complaints, satisfaction=overall_satisfaction,
        services=services, kelurahan=kelurahan, categories=categories,
    )
    return PerformanceReport(
        period=_period(days, year, month),
        as_of=freshness.as_of,
        minimum_group_size=minimum,
        suppression_rule=SUPPRESSION_RULE.format(k=minimum),
        applications=applications,
        complaints=complaints,
        satisfaction=overall_satisfaction,
        services=services,
        kelurahan=kelurahan,
        complaint_categories=categories,
        achievements=achievements,
        overdue_areas=behind,
    )
