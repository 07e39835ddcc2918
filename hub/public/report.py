"""What the public page shows of the performance report and the satisfaction index,
shaped into charts (bars with labels) for the SVG templates.

`performanceReport` is asked for in the shape schema/analytics/report_types.py gives
it; its arguments are read from the public schema (a month or a year). When the field
is absent, refuses, or has another shape, the page shows the satisfaction index alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from graphql import GraphQLInputObjectType, GraphQLNonNull, get_named_type

MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
          "September", "Oktober", "November", "Desember")

REPORT_SELECTION = """{
  period { label from to } asOf minimumGroupSize
  applications { total { value suppressed } onTimeShare { value suppressed }
    medianWorkingDays { value suppressed } overdue { value suppressed } }
  complaints { total { value suppressed } verifiedWithin3DaysShare { value suppressed }
    followedUpWithin5DaysShare { value suppressed } }
  services { code name applications { total { value suppressed }
    medianWorkingDays { value suppressed } p90WorkingDays { value suppressed }
    onTimeShare { value suppressed } } }
  complaintCategories { category complaints { total { value suppressed } } }
  achievements { message } overdueAreas { message }
}"""

SATISFACTION_QUERY = """query($period: PeriodInput) {
  satisfactionIndex(period: $period) {
    period { from to } respondents refused index grade gradeLabel
    elements { code name nrr label }
  }
}"""


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    year: int
    month: int | None  # None: the whole year

    @property
    def first(self) -> date:
        return date(self.year, self.month or 1, 1)

    @property
    def last(self) -> date:
        if self.month is None:
            return date(self.year, 12, 31)
        following = date(self.year + (self.month == 12), self.month % 12 + 1, 1)
        return following - timedelta(days=1)

    @property
    def label(self) -> str:
        return f"{MONTHS[self.month - 1]} {self.year}" if self.month else f"Tahun {self.year}"


def chosen_period(params: dict[str, str], *, today: date) -> ReportPeriod:
    """`?bulan=YYYY-MM` or `?tahun=YYYY`; by default the last complete month."""
    try:
        if "bulan" in params:
            year, month = params["bulan"].split("-")
            period = ReportPeriod(int(year), int(month))
            period.first  # noqa: B018 - validates the month
            return period
        if "tahun" in params:
            return ReportPeriod(int(params["tahun"]), None)
    except ValueError:
        pass
    previous = today.replace(day=1) - timedelta(days=1)
    return ReportPeriod(previous.year, previous.month)


def _literal(name: str, type_: Any, period: ReportPeriod) -> str | None:
    named = get_named_type(type_)
    lowered = name.lower()
    if isinstance(named, GraphQLInputObjectType):
        parts = []
        for field_name, input_field in named.fields.items():
            value = _literal(field_name, input_field.type, period)
            if value is not None:
                parts.append(f"{field_name}: {value}")
            elif isinstance(input_field.type, GraphQLNonNull):
                return None
        return "{" + ", ".join(parts) + "}"
    if lowered in ("year", "tahun"):
        return str(period.year)
    if lowered in ("month", "bulan"):
        return str(period.month) if period.month else None
    if lowered in ("from", "start", "first"):
        return json.dumps(period.first.isoformat())
    if lowered in ("to", "end", "last"):
        return json.dumps(period.last.isoformat())
    if lowered in ("kind", "granularity", "type"):
        return "MONTH" if period.month else "YEAR"
    return None


def report_query(arguments: dict[str, Any], period: ReportPeriod) -> str | None:
    """The performanceReport query for this period, or None if its arguments are unknown."""
    if not arguments:
        return None
    parts = []
    for name, argument in arguments.items():
        value = _literal(name, argument.type, period)
        if value is None:
            if isinstance(argument.type, GraphQLNonNull):
                return None
            continue
        parts.append(f"{name}: {value}")
    args = f"({', '.join(parts)})" if parts else ""
    return f"query {{ performanceReport{args} {REPORT_SELECTION} }}"


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float | None  # None: suppressed or unknown
    text: str  # the value as shown
    marker: float | None = None  # e.g. the 90th percentile beside the median
    marker_text: str = ""


@dataclass(frozen=True, slots=True)
class Chart:
    key: str
    title: str
    note: str
    maximum: float
    bars: list[Bar]
    # the table's column headers: the rows, their values, and the markers' values if any
    row_header: str = "Kelompok"
    value_header: str = "Nilai"
    marker_header: str | None = None


@dataclass
class PageReport:
    period: ReportPeriod
    available: bool = False
    label: str = ""
    as_of: str | None = None
    minimum_group_size: int | None = None
    summary: list[tuple[str, str]] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    achievements: list[str] = field(default_factory=list)
    overdue_areas: list[str] = field(default_factory=list)


def _value(figure: Any) -> float | None:
    if not isinstance(figure, dict) or figure.get("suppressed"):
        return None
    value = figure.get("value")
    return float(value) if isinstance(value, (int, float)) else None


def _days(value: float | None) -> str:
    return "disembunyikan" if value is None else f"{value:.1f} hari kerja".replace(".", ",")


def _percent(value: float | None) -> str:
    return "disembunyikan" if value is None else f"{value * 100:.0f}%"


def _count(value: float | None) -> str:
    return "disembunyikan" if value is None else f"{value:,.0f}".replace(",", ".")


def _maximum(values: list[float | None], floor: float = 1.0) -> float:
    return max([v for v in values if v is not None] + [floor])


def report_from(data: dict[str, Any] | None, period: ReportPeriod) -> PageReport:
    page = PageReport(period=period, label=period.label)
    report = (data or {}).get("performanceReport")
    if not isinstance(report, dict):
        return page
    page.available = True
    page.label = (report.get("period") or {}).get("label") or period.label
    page.as_of = report.get("asOf")
    page.minimum_group_size = report.get("minimumGroupSize")
    apps, complaints = report.get("applications") or {}, report.get("complaints") or {}
    page.summary = [
        ("Permohonan izin", _count(_value(apps.get("total")))),
        ("Selesai tepat waktu", _percent(_value(apps.get("onTimeShare")))),
        ("Median waktu proses", _days(_value(apps.get("medianWorkingDays")))),
        ("Pengaduan", _count(_value(complaints.get("total")))),
        ("Diverifikasi ≤ 3 hari kerja", _percent(_value(complaints.get("verifiedWithin3DaysShare")))),
    ]
    services = [s for s in report.get("services") or [] if isinstance(s, dict)]
    median = [_value((s.get("applications") or {}).get("medianWorkingDays")) for s in services]
    p90 = [_value((s.get("applications") or {}).get("p90WorkingDays")) for s in services]
    if services:
        page.charts.append(Chart(
            key="waktu", title="Waktu penyelesaian per jenis izin",
            note="Median (batang) dan persentil ke-90 (garis) dalam hari kerja sejak berkas lengkap.",
            maximum=_maximum(median + p90),
            bars=[Bar(s.get("name") or s.get("code") or "", m, _days(m), q, _days(q))
                  for s, m, q in zip(services, median, p90)],
            row_header="Jenis izin", value_header="Median", marker_header="Persentil ke-90",
        ))
        shares = [_value((s.get("applications") or {}).get("onTimeShare")) for s in services]
        page.charts.append(Chart(
            key="tepat-waktu", title="Selesai dalam standar waktu layanan",
            note="Bagian permohonan yang selesai dalam waktu standar jenis izinnya.",
            maximum=1.0,
            bars=[Bar(s.get("name") or s.get("code") or "", v, _percent(v)) for s, v in zip(services, shares)],
            row_header="Jenis izin", value_header="Selesai tepat waktu",
        ))
    categories = [c for c in report.get("complaintCategories") or [] if isinstance(c, dict)]
    if categories:
        totals = [_value((c.get("complaints") or {}).get("total")) for c in categories]
        page.charts.append(Chart(
            key="pengaduan", title="Pengaduan per kategori",
            note="Jumlah pengaduan yang masuk pada periode ini.",
            maximum=_maximum(totals),
            bars=[Bar(c.get("category") or "", v, _count(v)) for c, v in zip(categories, totals)],
            row_header="Kategori", value_header="Jumlah pengaduan",
        ))
    page.achievements = [f["message"] for f in report.get("achievements") or [] if f.get("message")]
    page.overdue_areas = [f["message"] for f in report.get("overdueAreas") or [] if f.get("message")]
    return page


def satisfaction_chart(index: dict[str, Any] | None) -> Chart | None:
    if not isinstance(index, dict):
        return None
    elements = index.get("elements") or []
    return Chart(
        key="ikm", title="Indeks kepuasan masyarakat per unsur",
        note="Nilai rata-rata (skala 1–4) tiap unsur pelayanan, PermenPANRB 14/2017.",
        maximum=4.0,
        bars=[
            Bar(f"{e['code']} {e['name']}", e.get("nrr"),
                "belum ada" if e.get("nrr") is None
                else f"{e['nrr']:.2f} ({e.get('label')})".replace(".", ",", 1))
            for e in elements
        ],
        row_header="Unsur pelayanan", value_header="Nilai rata-rata (1–4)",
    )
