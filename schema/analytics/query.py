"""`MetricsQuery`: the root fields `serviceMetrics` and `performanceReport`."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from schema.analytics.metrics import ServiceMetrics, metrics_service, service_metrics
from schema.analytics.period import DayRange, PeriodInput, checked_period
from schema.analytics.report import build_report
from schema.analytics.report_types import PerformanceReport
from schema.analytics.service import SatisfactionLookup
from schema.analytics.surveys import satisfaction_summary
from schema.context import Context


@strawberry.input(description="A month of a year, or the whole year when `month` is absent.")
class ReportPeriodInput:
    year: int
    month: int | None = None


def satisfaction_lookup(ctx: Context) -> SatisfactionLookup | None:
    """The configured lookup, else one over the hub's survey store, else None."""
    service = metrics_service(ctx)
    if service.satisfaction is not None:
        return service.satisfaction
    surveys = ctx.env.surveys
    if surveys is None:
        return None

    async def lookup(code: str | None, days: DayRange) -> dict[str, Any] | None:
        result = await satisfaction_summary(surveys, service=code, period_from=days.first, period_to=days.last)
        if result is None:
            return None
        refused = await surveys.store.refused(service=code, first_day=days.first, last_day=days.last)
        return {**result.as_dict(), "refused": sum(refused.values())}

    return lookup


@strawberry.type
class MetricsQuery:
    @strawberry.field(description="Service metrics for officers and analysts, computed in SQL over "
                      "the hub's view of case facts; period defaults to the last 365 days.")
    async def service_metrics(
        self,
        info: Info[Context, None],
        period: PeriodInput | None = None,
        kelurahan: list[str] | None = None,
        permit_type: list[str] | None = None,
        category: list[str] | None = None,
    ) -> ServiceMetrics:
        ctx = info.context
        days = checked_period(period, today=ctx.env.today())
        return await service_metrics(ctx, days=days, kelurahan=kelurahan, permit_type=permit_type,
                                     category=category)

    @strawberry.field(description="The public performance report of a month or a year, with "
                      "small-count suppression.")
    async def performance_report(self, info: Info[Context, None], period: ReportPeriodInput) -> PerformanceReport:
        ctx = info.context
        service = metrics_service(ctx)
        return await build_report(
            service.view,
            year=period.year,
            month=period.month,
            region=ctx.env.region,
            minimum=service.min_group_size,
            satisfaction=satisfaction_lookup(ctx),
        )
