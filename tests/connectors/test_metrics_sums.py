"""The metric SQL against a plain-Python reference over the same fact rows: random
tables of facts, every figure of every breakdown compared (on SQLite and PostgreSQL).

The queries sum one grouped scan into the summary and breakdowns and read percentiles
off day-count histograms; the reference counts each breakdown's rows directly and takes
percentiles with `statistics.quantiles(method="inclusive")` (linear between ranks)."""

from __future__ import annotations

import random
import statistics
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from tests.support.metrics_cases import store  # noqa: F401
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.metrics import MetricsFilter, MetricsView, application_facts, complaint_facts

KELURAHAN = ["1471081001", "1471081002", "1471081003"]
TYPES = {"IUMK": ("Izin Usaha Mikro Kecil", 3), "PBG": ("Persetujuan Bangunan Gedung", 20), "SIP": ("Izin Praktik", 5)}
APP_STATUSES = ["ISSUED", "REJECTED", "FILE_CHECK", "SIGNED", "DATA_ENTRY"]
CATEGORIES = ["Infrastruktur", "Kebersihan", "Keamanan"]
CMP_STATUSES = ["DITERIMA", "DIVERIFIKASI", "SELESAI", "DIARSIPKAN"]
DAY0 = date(2025, 1, 1)


def _maybe(rng: random.Random, value: Any, share: float = 0.7) -> Any:
    return value if rng.random() < share else None


def application_rows(rng: random.Random, n: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        code = rng.choice(list(TYPES))
        received = DAY0 + timedelta(days=rng.randrange(120))
        complete = _maybe(rng, received)
        finished = complete is not None and rng.random() < 0.6 or rng.random() < 0.1
        timed = finished and complete is not None
        rows.append({
            "number": f"A-{i:05d}", "permit_type_code": code, "permit_type_name": TYPES[code][0],
            "service_level_days": TYPES[code][1], "kelurahan_code": rng.choice(KELURAHAN),
            "status": rng.choice(APP_STATUSES), "received_at": datetime.combine(received, datetime.min.time()),
            "received_on": received, "file_complete_at": None, "finished_at": None, "finished": finished,
            "due_date": None, "working_days": rng.randrange(0, 40) if complete is not None else None,
            "on_time": (rng.random() < 0.7) if timed else None,
            "overdue": (not finished) and rng.random() < 0.3, "aged_on": date(2025, 6, 1),
        })
    return rows


def complaint_rows(rng: random.Random, n: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        submitted = DAY0 + timedelta(days=rng.randrange(120))
        verified = _maybe(rng, datetime.combine(submitted, datetime.min.time()))
        rows.append({
            "number": f"C-{i:05d}", "category": rng.choice(CATEGORIES), "classification": "PENGADUAN",
            "kelurahan_code": rng.choice(KELURAHAN), "visibility": "PUBLIC", "status": rng.choice(CMP_STATUSES),
            "submitted_at": datetime.combine(submitted, datetime.min.time()), "submitted_on": submitted,
            "verified_at": verified, "disposed_at": None, "followed_up_at": None, "resolved_at": None,
            "closed_at": None, "finished": rng.random() < 0.5,
            "verification_days": rng.randrange(0, 15) if rng.random() < 0.9 else None,
            "follow_up_days": None, "verified_in_time": _maybe(rng, rng.random() < 0.6),
            "followed_up_in_time": _maybe(rng, rng.random() < 0.6, 0.5), "aged_on": date(2025, 6, 1),
        })
    return rows


def _percentile(values: list[int], n: int, index: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return float(values[0])
    return statistics.quantiles(values, n=n, method="inclusive")[index]


def expected_applications(rows: list[dict[str, Any]]) -> dict[str, Any]:
    timed = [r for r in rows if r["finished"] and r["on_time"] is not None]
    days = [r["working_days"] for r in timed if r["working_days"] is not None]
    return {
        "total": len(rows), "finished": sum(r["finished"] for r in rows), "timed": len(timed),
        "on_time": sum(r["on_time"] is True for r in rows), "backlog": sum(not r["finished"] for r in rows),
        "overdue": sum(r["overdue"] for r in rows),
        "median": _percentile(days, 2, 0), "p90": _percentile(days, 10, 8),
    }


def expected_complaints(rows: list[dict[str, Any]]) -> dict[str, Any]:
    days = [r["verification_days"] for r in rows if r["verified_at"] is not None and r["verification_days"] is not None]
    return {
        "total": len(rows), "finished": sum(r["finished"] for r in rows),
        "backlog": sum(not r["finished"] for r in rows),
        "verification_due": sum(r["verified_in_time"] is not None for r in rows),
        "verified_in_time": sum(r["verified_in_time"] is True for r in rows),
        "follow_up_due": sum(r["followed_up_in_time"] is not None for r in rows),
        "followed_up_in_time": sum(r["followed_up_in_time"] is True for r in rows),
        "median": _percentile(days, 2, 0),
    }


def got_application(s: Any) -> dict[str, Any]:
    return {"total": s.total, "finished": s.finished, "timed": s.timed, "on_time": s.on_time,
            "backlog": s.backlog, "overdue": s.overdue, "median": s.median_working_days, "p90": s.p90_working_days}


def got_complaint(s: Any) -> dict[str, Any]:
    return {"total": s.total, "finished": s.finished, "backlog": s.backlog, "verification_due": s.verification_due,
            "verified_in_time": s.verified_in_time, "follow_up_due": s.follow_up_due,
            "followed_up_in_time": s.followed_up_in_time, "median": s.median_verification_days}


def _close(got: dict[str, Any], want: dict[str, Any]) -> bool:
    return got.keys() == want.keys() and all(
        got[k] == pytest.approx(want[k]) if isinstance(want[k], float) else got[k] == want[k] for k in want
    )


def _groups(rows: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row[key], []).append(row)
    return dict(sorted(groups.items()))


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_every_breakdown_matches_a_direct_count_of_the_facts(store: AsyncEngine, seed: int) -> None:  # noqa: F811
    rng = random.Random(seed)
    apps, cmps = application_rows(rng, 400), complaint_rows(rng, 300)
    async with store.begin() as conn:
        await conn.execute(application_facts.insert(), apps)
        await conn.execute(complaint_facts.insert(), cmps)
    view = MetricsView(store)
    first, last = DAY0 + timedelta(days=20), DAY0 + timedelta(days=90)
    for flt in (MetricsFilter(), MetricsFilter(received_from=first, received_to=last, kelurahan_codes=tuple(KELURAHAN[:2]))):
        def chosen(rows: list[dict[str, Any]], day: str) -> list[dict[str, Any]]:
            return [r for r in rows
                    if (flt.received_from is None or r[day] >= flt.received_from)
                    and (flt.received_to is None or r[day] <= flt.received_to)
                    and (flt.kelurahan_codes is None or r["kelurahan_code"] in flt.kelurahan_codes)]

        a_rows, c_rows = chosen(apps, "received_on"), chosen(cmps, "submitted_on")
        a = await view.application_metrics(flt, by_kelurahan=True)
        assert _close(got_application(a.summary), expected_applications(a_rows))
        assert [(s.status, s.count) for s in a.by_status] == [
            (k, len(v)) for k, v in _groups(a_rows, "status").items()]
        by_type = _groups(a_rows, "permit_type_code")
        assert [s.key for s in a.by_permit_type] == list(by_type)
        for s in a.by_permit_type:
            assert _close(got_application(s), expected_applications(by_type[s.key]))
            assert (s.name, s.service_level_days) == TYPES[s.key]
        by_kel = _groups(a_rows, "kelurahan_code")
        assert [s.key for s in a.by_kelurahan] == list(by_kel)
        for s in a.by_kelurahan:
            assert _close(got_application(s), expected_applications(by_kel[s.key]))
            assert (s.name, s.service_level_days) == (None, None)

        c = await view.complaint_metrics(flt, by_kelurahan=True)
        assert _close(got_complaint(c.summary), expected_complaints(c_rows))
        assert [(s.status, s.count) for s in c.by_status] == [
            (k, len(v)) for k, v in _groups(c_rows, "status").items()]
        by_category = _groups(c_rows, "category")
        assert [s.key for s in c.by_category] == list(by_category)
        for s in c.by_category:
            assert _close(got_complaint(s), expected_complaints(by_category[s.key]))
        by_kel = _groups(c_rows, "kelurahan_code")
        assert [s.key for s in c.by_kelurahan] == list(by_kel)
        for s in c.by_kelurahan:
            assert _close(got_complaint(s), expected_complaints(by_kel[s.key]))

    without = await view.application_metrics(MetricsFilter())
    assert without.by_kelurahan == []  # only when asked for
