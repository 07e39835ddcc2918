"""The metric SQL: two grouped scans per table, whatever the breakdowns asked for.

Counts are additive, so one query grouped by (group, [kelurahan,] status) gives the
summary, the status counts and every breakdown, summed here over a few hundred rows.
Percentiles are not additive, but the day counts are whole numbers: one query counts
the cases per (group, [kelurahan,] day count), and each breakdown's percentile is read
off its merged histogram. Neither query sorts the cases (the window functions this
replaced ranked every case of the period, once per breakdown).

Percentiles interpolate linearly between the two closest ranks (PostgreSQL's
`percentile_cont`, NumPy's default): for n values sorted ascending, p lies at rank
p·(n−1) counted from 0.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, true
from sqlalchemy import select as sql_select
from sqlalchemy.ext.asyncio import AsyncConnection

from connectors.metrics.model import (
    ApplicationMetrics,
    ApplicationSummary,
    ComplaintMetrics,
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


def percentile(histogram: Counter[int], point: Fraction) -> float | None:
    """The interpolated percentile at `point` of the values counted in `histogram`."""
    n = sum(histogram.values())
    if n == 0:
        return None
    ordered = sorted(histogram.items())

    def at(rank: int) -> int:  # the value of the `rank`-th smallest case, from 0
        seen = 0
        for value, count in ordered:
            seen += count
            if seen > rank:
                return value
        return ordered[-1][0]

    position = point * (n - 1)
    low = int(position)
    lower, upper = at(low), at(min(low + 1, n - 1))
    return lower + float(position - low) * (upper - lower)


@dataclass(slots=True)
class _Tally:
    """Summed counts (named by the query's labels) and the day-count histogram of a group."""

    counts: Counter[str] = field(default_factory=Counter)
    days: Counter[int] = field(default_factory=Counter)
    extra: dict[str, Any] = field(default_factory=dict)  # the scan's `extra`, the greatest value

    def figures(self, scan: _Scan) -> dict[str, int]:
        """The total and each of `scan`'s counts (0 for a group without rows)."""
        return {name: self.counts[name] for name in ("total", *scan.counts)}


#: the tallies of one breakdown, by the group's code (a column no row leaves null)
_Groups = defaultdict[str, _Tally]


@dataclass(frozen=True, slots=True)
class _Scan:
    """What is counted of one table: per group and status, `counts` (named as the
    summary's fields) and `extra` (per group, the greatest value), and the histogram of
    `days` over the `timed` rows."""

    group: ColumnElement[Any]
    kelurahan: ColumnElement[Any]
    status: ColumnElement[Any]
    counts: dict[str, ColumnElement[Any]]
    extra: dict[str, ColumnElement[Any]]
    days: ColumnElement[Any]
    timed: ColumnElement[bool]


_TIMED = and_(apps.c.finished == true(), apps.c.on_time.is_not(None))
APPLICATIONS = _Scan(
    group=apps.c.permit_type_code,
    kelurahan=apps.c.kelurahan_code,
    status=apps.c.status,
    counts={
        "finished": _count_if(apps.c.finished == true()),
        "timed": _count_if(_TIMED),
        "on_time": _count_if(apps.c.on_time == true()),
        "backlog": _count_if(apps.c.finished == false()),
        "overdue": _count_if(apps.c.overdue == true()),
    },
    extra={"name": func.max(apps.c.permit_type_name), "sla": func.max(apps.c.service_level_days)},
    days=apps.c.working_days,
    timed=_TIMED,
)
COMPLAINTS = _Scan(
    group=cmps.c.category,
    kelurahan=cmps.c.kelurahan_code,
    status=cmps.c.status,
    counts={
        "finished": _count_if(cmps.c.finished == true()),
        "backlog": _count_if(cmps.c.finished == false()),
        "verification_due": _count_if(cmps.c.verified_in_time.is_not(None)),
        "verified_in_time": _count_if(cmps.c.verified_in_time == true()),
        "follow_up_due": _count_if(cmps.c.followed_up_in_time.is_not(None)),
        "followed_up_in_time": _count_if(cmps.c.followed_up_in_time == true()),
    },
    extra={},
    days=cmps.c.verification_days,
    timed=cmps.c.verified_at.is_not(None),
)


async def _tally(
    conn: AsyncConnection, scan: _Scan, conditions: Sequence[ColumnElement[bool]], *, by_kelurahan: bool
) -> tuple[_Tally, _Groups, _Groups, Counter[str]]:
    """(whole selection, by group, by kelurahan, by status) from the two grouped scans."""
    keys = [scan.group.label("g"), *([scan.kelurahan.label("k")] if by_kelurahan else [])]
    whole, by_group, by_kel = _Tally(), _Groups(_Tally), _Groups(_Tally)
    statuses: Counter[str] = Counter()

    def tallies(row: Any) -> list[_Tally]:  # every tally a result row adds to
        found = [whole, by_group[row["g"]]]
        if by_kelurahan:
            found.append(by_kel[row["k"]])
        return found

    stmt = (
        sql_select(*keys, scan.status.label("s"), func.count().label("total"),
                   *(c.label(n) for n, c in scan.counts.items()), *(c.label(n) for n, c in scan.extra.items()))
        .where(*conditions)
        .group_by(*(k.element for k in keys), scan.status)
    )
    names = ["total", *scan.counts]
    for row in (await conn.execute(stmt)).mappings():
        values = {n: int(row[n]) for n in names}
        statuses[row["s"]] += values["total"]
        for tally in tallies(row):
            tally.counts.update(values)
        extra = by_group[row["g"]].extra
        for n in scan.extra:  # as SQL's max over the group: the greatest value
            if row[n] is not None and (extra.get(n) is None or row[n] > extra[n]):
                extra[n] = row[n]
    histogram = (
        sql_select(*keys, scan.days.label("d"), func.count().label("n"))
        .where(*conditions, scan.timed, scan.days.is_not(None))
        .group_by(*(k.element for k in keys), scan.days)
    )
    for row in (await conn.execute(histogram)).mappings():
        for tally in tallies(row):
            tally.days[int(row["d"])] += int(row["n"])
    return whole, by_group, by_kel, statuses


def _status_counts(statuses: Counter[str]) -> list[StatusCount]:
    return [StatusCount(status, statuses[status]) for status in sorted(statuses)]


async def application_metrics(
    conn: AsyncConnection, conditions: Sequence[ColumnElement[bool]], *, by_kelurahan: bool
) -> ApplicationMetrics:
    whole, by_type, by_kel, statuses = await _tally(conn, APPLICATIONS, conditions, by_kelurahan=by_kelurahan)

    def summary(key: str | None, tally: _Tally, *, typed: bool = False) -> ApplicationSummary:
        return ApplicationSummary(
            key=key,
            name=tally.extra.get("name") if typed else None,
            **tally.figures(APPLICATIONS),
            median_working_days=percentile(tally.days, MEDIAN),
            p90_working_days=percentile(tally.days, P90),
            service_level_days=int(tally.extra["sla"]) if typed and tally.extra.get("sla") is not None else None,
        )

    return ApplicationMetrics(
        summary=summary(None, whole),
        by_status=_status_counts(statuses),
        by_permit_type=[summary(key, tally, typed=True) for key, tally in sorted(by_type.items())],
        by_kelurahan=[summary(key, tally) for key, tally in sorted(by_kel.items())],
    )


async def complaint_metrics(
    conn: AsyncConnection, conditions: Sequence[ColumnElement[bool]], *, by_kelurahan: bool
) -> ComplaintMetrics:
    whole, by_category, by_kel, statuses = await _tally(conn, COMPLAINTS, conditions, by_kelurahan=by_kelurahan)

    def summary(key: str | None, tally: _Tally) -> ComplaintSummary:
        return ComplaintSummary(
            key=key,
            **tally.figures(COMPLAINTS),
            median_verification_days=percentile(tally.days, MEDIAN),
        )

    return ComplaintMetrics(
        summary=summary(None, whole),
        by_status=_status_counts(statuses),
        by_category=[summary(key, tally) for key, tally in sorted(by_category.items())],
        by_kelurahan=[summary(key, tally) for key, tally in sorted(by_kel.items())],
    )
