"""The metric SQL: conditional counts grouped in the database, and percentiles taken
with window functions so that only the few ranked values needed leave the database.

Percentiles interpolate linearly between the two closest ranks (PostgreSQL's
`percentile_cont`, NumPy's default): for n values sorted ascending, p lies at rank
p·(n−1) counted from 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    case,
    false,
    func,
    literal_column,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from connectors.metrics.model import (
    ApplicationSummary,
    ComplaintSummary,
    MetricsFilter,
    StatusCount,
)
from connectors.metrics.tables import application_facts as apps
from connectors.metrics.tables import complaint_facts as cmps

MEDIAN = Fraction(1, 2)
P90 = Fraction(9, 10)


def application_conditions(flt: MetricsFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if flt.received_from is not None:
        conditions.append(apps.c.received_on >= flt.received_from)
    if flt.received_to is not None:
        conditions.append(apps.c.received_on <= flt.received_to)
    if flt.kelurahan_codes is not None:
        conditions.append(apps.c.kelurahan_code.in_(flt.kelurahan_codes))
    if flt.permit_types is not None:
        conditions.append(apps.c.permit_type_code.in_(flt.permit_types))
    return conditions


def complaint_conditions(flt: MetricsFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if flt.received_from is not None:
        conditions.append(cmps.c.submitted_on >= flt.received_from)
    if flt.received_to is not None:
        conditions.append(cmps.c.submitted_on <= flt.received_to)
    if flt.kelurahan_codes is not None:
        conditions.append(cmps.c.kelurahan_code.in_(flt.kelurahan_codes))
    if flt.categories is not None:
        conditions.append(cmps.c.category.in_(flt.categories))
    return conditions


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def grouped_percentiles(
    conn: AsyncConnection,
    table: Table,
    value: str,
    conditions: Sequence[ColumnElement[bool]],
    group: str | None,
    points: Sequence[Fraction] = (MEDIAN, P90),
) -> dict[str | None, dict[Fraction, float]]:
    """Per group, the interpolated percentile of the non-null `value`s at each point."""
    column = table.c[value]
    key = table.c[group] if group is not None else literal_column("'*'")
    partition = [table.c[group]] if group is not None else None
    ranked = (
        select(
            key.label("g"),
            column.label("v"),
            (func.row_number().over(partition_by=partition, order_by=column) - 1).label("rn"),
            func.count().over(partition_by=partition).label("n"),
        )
        .where(*conditions, column.is_not(None))
        .subquery()
    )
    wanted = []
    for point in points:
        rank = (literal_column(str(point.numerator)) * (ranked.c.n - 1)).op("/")(
            literal_column(str(point.denominator))
        )
        wanted += [ranked.c.rn == rank, ranked.c.rn == rank + 1]
    stmt = select(ranked.c.g, ranked.c.rn, ranked.c.n, ranked.c.v).where(or_(*wanted))
    ranks: dict[Any, dict[int, float]] = {}
    sizes: dict[Any, int] = {}
    for g, rn, n, v in (await conn.execute(stmt)).all():
        ranks.setdefault(g, {})[int(rn)] = float(v)
        sizes[g] = int(n)
    result: dict[str | None, dict[Fraction, float]] = {}
    for g, values in ranks.items():
        n = sizes[g]
        found: dict[Fraction, float] = {}
        for point in points:
            position = point * (n - 1)
            low = int(position)
            fraction = position - low
            lower = values[low]
            upper = values.get(low + 1, lower)
            found[point] = lower + float(fraction) * (upper - lower)
        result[None if group is None else g] = found
    return result


async def application_summaries(
    conn: AsyncConnection, conditions: Sequence[ColumnElement[bool]], group: str | None
) -> list[ApplicationSummary]:
    """One summary per group (`permit_type_code`, `kelurahan_code`), or one for all."""
    c = apps.c
    timed = and_(c.finished == true(), c.on_time.is_not(None))
    columns = [
        func.count().label("total"),
        _count_if(c.finished == true()).label("finished"),
        _count_if(timed).label("timed"),
        _count_if(c.on_time == true()).label("on_time"),
        _count_if(c.finished == false()).label("backlog"),
        _count_if(c.overdue == true()).label("overdue"),
        func.max(c.permit_type_name).label("name"),
        func.max(c.service_level_days).label("sla"),
    ]
    key = c[group] if group is not None else null().label("g")
    stmt = select(key.label("g"), *columns).where(*conditions)
    if group is not None:
        stmt = stmt.group_by(c[group]).order_by(c[group])
    rows = (await conn.execute(stmt)).all()
    percentiles = await grouped_percentiles(
        conn, apps, "working_days", [*conditions, timed], group
    )
    by_type = group == "permit_type_code"
    summaries = []
    for row in rows:
        if group is None and row.total == 0:
            return [ApplicationSummary(None, None, 0, 0, 0, 0, 0, 0, None, None)]
        points = percentiles.get(row.g, {})
        summaries.append(
            ApplicationSummary(
                key=row.g,
                name=row.name if by_type else None,
                total=int(row.total),
                finished=int(row.finished),
                timed=int(row.timed),
                on_time=int(row.on_time),
                backlog=int(row.backlog),
                overdue=int(row.overdue),
                median_working_days=points.get(MEDIAN),
                p90_working_days=points.get(P90),
                service_level_days=int(row.sla) if by_type and row.sla is not None else None,
            )
        )
    return summaries


async def complaint_summaries(
    conn: AsyncConnection, conditions: Sequence[ColumnElement[bool]], group: str | None
) -> list[ComplaintSummary]:
    c = cmps.c
    columns = [
        func.count().label("total"),
        _count_if(c.finished == true()).label("finished"),
        _count_if(c.finished == false()).label("backlog"),
        _count_if(c.verified_in_time.is_not(None)).label("verification_due"),
        _count_if(c.verified_in_time == true()).label("verified_in_time"),
        _count_if(c.followed_up_in_time.is_not(None)).label("follow_up_due"),
        _count_if(c.followed_up_in_time == true()).label("followed_up_in_time"),
    ]
    key = c[group] if group is not None else null().label("g")
    stmt = select(key.label("g"), *columns).where(*conditions)
    if group is not None:
        stmt = stmt.group_by(c[group]).order_by(c[group])
    rows = (await conn.execute(stmt)).all()
    medians = await grouped_percentiles(
        conn, cmps, "verification_days", [*conditions, c.verified_at.is_not(None)], group, (MEDIAN,)
    )
    return [
        ComplaintSummary(
            key=row.g,
            total=int(row.total),
            finished=int(row.finished),
            backlog=int(row.backlog),
            verification_due=int(row.verification_due),
            verified_in_time=int(row.verified_in_time),
            follow_up_due=int(row.follow_up_due),
            followed_up_in_time=int(row.followed_up_in_time),
            median_verification_days=medians.get(row.g, {}).get(MEDIAN),
        )
        for row in rows
    ]


async def status_counts(
    conn: AsyncConnection, table: Table, conditions: Sequence[ColumnElement[bool]]
) -> list[StatusCount]:
    stmt = (
        select(table.c.status, func.count())
        .where(*conditions)
        .group_by(table.c.status)
        .order_by(table.c.status)
    )
    return [StatusCount(status, int(n)) for status, n in (await conn.execute(stmt)).all()]
