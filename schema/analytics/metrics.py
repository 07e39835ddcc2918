"""`serviceMetrics`: counts, processing times, service-level and LAPOR! deadline shares,
computed in SQL over the hub's materialised view of case facts (connectors.metrics).

Officers and analysts read it (the policy lists who may call it); each part is limited
by `metrics_scope` (a kelurahan officer sees its own kelurahan only). Figures count
cases received (applications) or submitted (complaints) within the period; `asOf` says
when the view was last brought up to date from the sources' change feeds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from connectors import metrics as m
from schema.analytics.metrics_scope import APPLICATIONS, COMPLAINTS, part_scope
from schema.analytics.period import DayRange, Period
from schema.analytics.service import MetricsService
from schema.context import Context
from schema.errors import BadUserInput, Forbidden, ServiceUnavailable

MAX_VALUES = 100
MAX_CODE = 100


def metrics_service(ctx: Context) -> MetricsService:
    service = ctx.env.metrics
    if service is None:
        raise ServiceUnavailable("metrics", "service metrics are not configured on this hub")
    return service


def checked_codes(values: list[str] | None, *, argument: str, digits: int | None = None) -> tuple[str, ...] | None:
    if values is None:
        return None
    if len(values) > MAX_VALUES:
        raise BadUserInput(f"`{argument}` takes at most {MAX_VALUES} values", details={"argument": argument})
    for value in values:
        if digits is not None:
            ok = len(value) == digits and value.isascii() and value.isdigit()
        else:
            ok = 0 < len(value) <= MAX_CODE and value.isprintable()
        if not ok:
            what = f"a {digits}-digit code" if digits else f"1-{MAX_CODE} printable characters"
            raise BadUserInput(f"`{argument}`: {value[:20]!r} is not {what}", details={"argument": argument})
    return tuple(dict.fromkeys(values))


@strawberry.type
class StatusCount:
    status: str
    count: int


def _status_counts(counts: list[m.StatusCount]) -> list[StatusCount]:
    return [StatusCount(status=c.status, count=c.count) for c in counts]


@strawberry.type(description="Applications of one group; processing times in working days "
                 "from a complete file, over finished applications.")
class ApplicationFigures:
    total: int
    finished: int
    on_time: int = strawberry.field(description="Finished within the permit type's service level.")
    late: int
    on_time_share: float | None = strawberry.field(description="onTime / (onTime + late).")
    backlog: int = strawberry.field(description="Not finished yet.")
    overdue: int = strawberry.field(description="Not finished and past the due date.")
    median_working_days: float | None
    p90_working_days: float | None

    @staticmethod
    def values(s: m.ApplicationSummary) -> dict[str, Any]:
        return {
            "total": s.total, "finished": s.finished, "on_time": s.on_time, "late": s.late,
            "on_time_share": s.on_time_share, "backlog": s.backlog, "overdue": s.overdue,
            "median_working_days": s.median_working_days, "p90_working_days": s.p90_working_days,
        }


@strawberry.type
class PermitTypeMetrics(ApplicationFigures):
    code: str
    name: str
    service_level_days: int | None


@strawberry.type
class KelurahanApplicationMetrics(ApplicationFigures):
    code: str
    name: str


@strawberry.type
class ApplicationMetrics(ApplicationFigures):
    by_status: list[StatusCount]
    by_permit_type: list[PermitTypeMetrics]
    by_kelurahan: list[KelurahanApplicationMetrics]


@strawberry.type(description="Complaints of one group; LAPOR! deadlines: verification within "
                 "3 working days of submission, follow-up within 5 of the disposition.")
class ComplaintFigures:
    total: int
    finished: int = strawberry.field(description="Resolved, archived or out of authority.")
    backlog: int
    verification_due: int = strawberry.field(description="Complaints whose verification deadline is met or missed.")
    verified_within_3_days: int
    verified_within_3_days_share: float | None
    follow_up_due: int
    followed_up_within_5_days: int
    followed_up_within_5_days_share: float | None
    median_verification_days: float | None

    @staticmethod
    def values(s: m.ComplaintSummary) -> dict[str, Any]:
        return {
            "total": s.total, "finished": s.finished, "backlog": s.backlog,
            "verification_due": s.verification_due, "verified_within_3_days": s.verified_in_time,
            "verified_within_3_days_share": s.verification_share, "follow_up_due": s.follow_up_due,
            "followed_up_within_5_days": s.followed_up_in_time,
            "followed_up_within_5_days_share": s.follow_up_share,
            "median_verification_days": s.median_verification_days,
        }


@strawberry.type
class CategoryMetrics(ComplaintFigures):
    category: str


@strawberry.type
class KelurahanComplaintMetrics(ComplaintFigures):
    code: str
    name: str


@strawberry.type
class ComplaintMetrics(ComplaintFigures):
    by_status: list[StatusCount]
    by_category: list[CategoryMetrics]
    by_kelurahan: list[KelurahanComplaintMetrics]


def _selects(info: Info, name: str) -> bool:
    return any(getattr(s, "name", None) == name for f in info.selected_fields for s in f.selections)


@strawberry.type(description="Service metrics from the hub's materialised view of case facts.")
class ServiceMetrics:
    as_of: datetime | None = strawberry.field(
        description="When the view was last brought up to date from the sources (the older "
        "of the two sources); null before the first refresh."
    )
    period: Period
    filter: strawberry.Private[m.MetricsFilter]

    @strawberry.field(description="Permit applications received within the period; null with "
                      "FORBIDDEN for a role without licensing aggregates.")
    async def applications(self, info: Info[Context, None]) -> ApplicationMetrics | None:
        ctx = info.context
        flt = _scoped(ctx, APPLICATIONS, self.filter)
        result = await metrics_service(ctx).view.application_metrics(
            flt, by_kelurahan=_selects(info, "byKelurahan")
        )
        region = ctx.env.region
        return ApplicationMetrics(
            **ApplicationFigures.values(result.summary),
            by_status=_status_counts(result.by_status),
            by_permit_type=[
                PermitTypeMetrics(code=s.key or "", name=s.name or s.key or "",
                                  service_level_days=s.service_level_days, **ApplicationFigures.values(s))
                for s in result.by_permit_type
            ],
            by_kelurahan=[
                KelurahanApplicationMetrics(code=s.key or "", name=region.kelurahan_named(s.key or "").name,
                                            **ApplicationFigures.values(s))
                for s in result.by_kelurahan
            ],
        )

    @strawberry.field(description="Complaints submitted within the period; null with FORBIDDEN "
                      "for a role without complaint aggregates.")
    async def complaints(self, info: Info[Context, None]) -> ComplaintMetrics | None:
        ctx = info.context
        flt = _scoped(ctx, COMPLAINTS, self.filter)
        result = await metrics_service(ctx).view.complaint_metrics(
            flt, by_kelurahan=_selects(info, "byKelurahan")
        )
        region = ctx.env.region
        return ComplaintMetrics(
            **ComplaintFigures.values(result.summary),
            by_status=_status_counts(result.by_status),
            by_category=[
                CategoryMetrics(category=s.key or "", **ComplaintFigures.values(s))
                for s in result.by_category
            ],
            by_kelurahan=[
                KelurahanComplaintMetrics(code=s.key or "", name=region.kelurahan_named(s.key or "").name,
                                          **ComplaintFigures.values(s))
                for s in result.by_kelurahan
            ],
        )


def _scoped(ctx: Context, part: str, flt: m.MetricsFilter) -> m.MetricsFilter:
    scope = part_scope(ctx.principal, part)
    if not scope.allowed:
        raise Forbidden(f"your role may not read the {part} metrics")
    codes = scope.narrow(flt.kelurahan_codes)
    if codes == ():
        raise Forbidden("the kelurahan asked for lie outside your kelurahan")
    return m.MetricsFilter(
        received_from=flt.received_from,
        received_to=flt.received_to,
        kelurahan_codes=codes,
        permit_types=flt.permit_types,
        categories=flt.categories,
    )


async def service_metrics(
    ctx: Context,
    *,
    days: DayRange,
    kelurahan: list[str] | None,
    permit_type: list[str] | None,
    category: list[str] | None,
) -> ServiceMetrics:
    service = metrics_service(ctx)
    if not any(part_scope(ctx.principal, part).allowed for part in (APPLICATIONS, COMPLAINTS)):
        raise Forbidden("your role may not read service metrics")
    flt = m.MetricsFilter(
        received_from=days.first,
        received_to=days.last,
        kelurahan_codes=checked_codes(kelurahan, argument="kelurahan", digits=10),
        permit_types=checked_codes(permit_type, argument="permitType"),
        categories=checked_codes(category, argument="category"),
    )
    freshness = await service.view.freshness()
    return ServiceMetrics(as_of=freshness.as_of, period=Period.of(days), filter=flt)


