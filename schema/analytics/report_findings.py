"""Achievements and areas that fall behind, read off the report's shown figures only
(a suppressed figure never becomes a finding)."""

from __future__ import annotations

from collections.abc import Sequence

from schema.analytics.report_types import (
    CategoryReport,
    KelurahanReport,
    RateFigure,
    ReportApplications,
    ReportComplaints,
    ReportFinding,
    ReportSatisfaction,
    ServiceReport,
)

#: A share at or above this is an achievement; below CONCERN_SHARE it falls behind.
ACHIEVEMENT_SHARE = 0.9
CONCERN_SHARE = 0.8
GOOD_GRADES = ("A", "B")


def percent(share: float) -> str:
    """`0.925` → `92,5%` (Indonesian decimal comma)."""
    return f"{share * 100:.1f}".replace(".", ",") + "%"


def _share(figure: RateFigure) -> float | None:
    return figure.value if not figure.suppressed else None


def _timeliness(area: str, code: str | None, name: str, a: ReportApplications,
                good: list[ReportFinding], behind: list[ReportFinding]) -> None:
    share = _share(a.on_time_share)
    if share is not None and share >= ACHIEVEMENT_SHARE:
        good.append(ReportFinding(area=area, code=code, name=name, measure="onTimeShare", value=share,
                                  message=f"{name}: {percent(share)} permohonan selesai tepat waktu"))
    elif share is not None and share < CONCERN_SHARE:
        behind.append(ReportFinding(area=area, code=code, name=name, measure="onTimeShare", value=share,
                                    message=f"{name}: hanya {percent(share)} permohonan selesai tepat waktu"))
    overdue = a.overdue.value
    if overdue:
        behind.append(ReportFinding(area=area, code=code, name=name, measure="overdue", value=float(overdue),
                                    message=f"{name}: {overdue} permohonan melewati batas waktu layanan"))


def _deadlines(area: str, code: str | None, name: str, c: ReportComplaints,
               good: list[ReportFinding], behind: list[ReportFinding]) -> None:
    for figure, measure, what in (
        (c.verified_within_3_days_share, "verifiedWithin3DaysShare", "diverifikasi dalam 3 hari kerja"),
        (c.followed_up_within_5_days_share, "followedUpWithin5DaysShare", "ditindaklanjuti dalam 5 hari kerja"),
    ):
        share = _share(figure)
        if share is None:
            continue
        if share >= ACHIEVEMENT_SHARE:
            good.append(ReportFinding(area=area, code=code, name=name, measure=measure, value=share,
                                      message=f"{name}: {percent(share)} pengaduan {what}"))
        elif share < CONCERN_SHARE:
            behind.append(ReportFinding(area=area, code=code, name=name, measure=measure, value=share,
                                        message=f"{name}: hanya {percent(share)} pengaduan {what}"))


def findings(
    *,
    applications: ReportApplications,
    complaints: ReportComplaints,
    satisfaction: ReportSatisfaction | None,
    services: Sequence[ServiceReport],
    kelurahan: Sequence[KelurahanReport],
    categories: Sequence[CategoryReport],
) -> tuple[list[ReportFinding], list[ReportFinding]]:
    good: list[ReportFinding] = []
    behind: list[ReportFinding] = []
    _timeliness("OVERALL", None, "Seluruh layanan perizinan", applications, good, behind)
    _deadlines("OVERALL", None, "Seluruh pengaduan", complaints, good, behind)
    if satisfaction is not None and not satisfaction.suppressed and satisfaction.grade in GOOD_GRADES:
        index = satisfaction.index.value or 0.0
        good.append(ReportFinding(
            area="OVERALL", code=None, name="Indeks Kepuasan Masyarakat", measure="satisfactionIndex",
            value=index, message=f"Indeks Kepuasan Masyarakat {index:.2f}".replace(".", ",")
            + f" ({satisfaction.grade_label})",
        ))
    for service in services:
        _timeliness("SERVICE", service.code, service.name, service.applications, good, behind)
    for place in kelurahan:
        _timeliness("KELURAHAN", place.code, f"Kelurahan {place.name}", place.applications, good, behind)
        _deadlines("KELURAHAN", place.code, f"Kelurahan {place.name}", place.complaints, good, behind)
    for category in categories:
        _deadlines("CATEGORY", category.category, category.category, category.complaints, good, behind)
    behind.sort(key=lambda f: (f.measure != "overdue", -f.value if f.measure == "overdue" else f.value))
    good.sort(key=lambda f: -f.value)
    return good, behind
