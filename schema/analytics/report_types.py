"""The GraphQL shape of `performanceReport`: figures that may be suppressed."""

from __future__ import annotations

from datetime import date, datetime

import strawberry


@strawberry.type(description="A count; null with `suppressed: true` when showing it could "
                 "reveal a group smaller than the report's minimum group size.")
class CountFigure:
    value: int | None
    suppressed: bool


@strawberry.type(description="A share (0-1), time or index; null with `suppressed: true` when "
                 "it could reveal a small group or rests on fewer cases than the minimum.")
class RateFigure:
    value: float | None
    suppressed: bool


@strawberry.type(description="Applications received in the period (working days counted from a "
                 "complete file).")
class ReportApplications:
    suppressed: bool = strawberry.field(description="The whole group is below the minimum size.")
    total: CountFigure
    finished: CountFigure
    backlog: CountFigure
    overdue: CountFigure
    on_time: CountFigure
    late: CountFigure
    on_time_share: RateFigure
    median_working_days: RateFigure
    p90_working_days: RateFigure


@strawberry.type(description="Complaints submitted in the period; LAPOR! deadlines: "
                 "verification within 3 working days, follow-up within 5.")
class ReportComplaints:
    suppressed: bool
    total: CountFigure
    finished: CountFigure
    backlog: CountFigure
    verified_within_3_days: CountFigure
    verified_within_3_days_share: RateFigure
    followed_up_within_5_days: CountFigure
    followed_up_within_5_days_share: RateFigure


@strawberry.type
class ReportSatisfactionElement:
    code: str
    name: str
    nrr: float


@strawberry.type(description="The satisfaction index (IKM) of the period.")
class ReportSatisfaction:
    suppressed: bool
    respondents: CountFigure = strawberry.field(description="The answers counted in the index.")
    refused: CountFigure = strawberry.field(
        description="The answers refused in the period (a second answer about an application, past a "
        "caller's daily allowance, or about an application that cannot be surveyed); null when unknown."
    )
    index: RateFigure
    grade: str | None
    grade_label: str | None
    elements: list[ReportSatisfactionElement]


@strawberry.type(description="One service (permit type).")
class ServiceReport:
    code: str
    name: str
    service_level_days: int | None
    applications: ReportApplications
    satisfaction: ReportSatisfaction | None


@strawberry.type
class KelurahanReport:
    code: str
    name: str
    kecamatan: str
    applications: ReportApplications
    complaints: ReportComplaints


@strawberry.type
class CategoryReport:
    category: str
    complaints: ReportComplaints


@strawberry.type(description="An achievement or an area that falls behind, from shown figures only.")
class ReportFinding:
    area: str = strawberry.field(description="SERVICE, KELURAHAN, CATEGORY or OVERALL.")
    code: str | None
    name: str
    measure: str = strawberry.field(description="e.g. onTimeShare, overdue, satisfactionIndex.")
    value: float
    message: str = strawberry.field(description="In Bahasa Indonesia.")


@strawberry.type
class ReportPeriod:
    year: int
    month: int | None
    label: str = strawberry.field(description="e.g. \"Maret 2025\" or \"Tahun 2025\".")
    from_: date = strawberry.field(name="from")
    to: date


@strawberry.type(description="The office's public performance report for a month or a year.")
class PerformanceReport:
    period: ReportPeriod
    as_of: datetime | None = strawberry.field(description="Freshness of the case figures.")
    minimum_group_size: int
    suppression_rule: str
    applications: ReportApplications
    complaints: ReportComplaints
    satisfaction: ReportSatisfaction | None = strawberry.field(
        description="Null when the hub keeps no satisfaction survey."
    )
    services: list[ServiceReport]
    kelurahan: list[KelurahanReport]
    complaint_categories: list[CategoryReport]
    achievements: list[ReportFinding]
    overdue_areas: list[ReportFinding]
