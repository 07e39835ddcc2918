"""`serviceMetrics` and `performanceReport` executed against the role schemas built from
the default policy, over in-memory sources and a metrics view in SQLite."""

from __future__ import annotations

import json
from dataclasses import replace
import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from tests.support.metrics_cases import DELIMA, PBG, REGION_FILE, SIMPANG_BARU, application, complaint
from sqlalchemy.ext.asyncio import create_async_engine

from auth.policy import load_policy
from auth.principal import ANONYMOUS, Principal
from auth.purposes import load_purposes
from connectors.memory import (
    InMemoryComplaintSource,
    InMemoryLicensingSource,
    InMemoryPopulationSource,
)
from connectors.metrics import MetricsView, metrics_metadata
from connectors.records import ComplaintStatus
from connectors.workdays import WorkCalendar
from schema.access import AccessControl, catalogue_of
from schema.value_kinds import VALUE_KINDS
from schema.analytics.service import MetricsService
from schema.build import build_role_schema, build_schema
from schema.context import Context, Environment
from schema.errors import format_error
from schema.region import load_region
from schema.sources import Sources

S = ComplaintStatus
TODAY = date(2025, 6, 30)
SIDOMULYO_BARAT = "1471151002"
ANALYST = Principal(subject="analyst-1", roles=frozenset({"analyst"}))
KELURAHAN_OFFICER = Principal(subject="kel-1", roles=frozenset({"kelurahan_officer"}), kelurahan=DELIMA)
LICENSING_OFFICER = Principal(subject="lic-1", roles=frozenset({"licensing_officer"}))
CITIZEN = Principal(subject="warga", roles=frozenset({"citizen"}), nik="1471080101800001")

FULL = build_schema()
POLICY = load_policy(catalogue=catalogue_of(FULL._schema), kinds=VALUE_KINDS)
SCHEMAS: dict[frozenset[str], Any] = {}


def names_and_niks(i: int) -> tuple[str, str]:
    return f"Warga Nomor{i:03d} Santoso", f"14710801018{i:05d}"


def applications() -> list:
    records = []
    # 12 IUMK in Simpang Baru: 10 finished on time (3 working days), 2 late (4)
    for i in range(12):
        name, nik = names_and_niks(i)
        day = date(2025, 5, 5) + timedelta(days=7 * (i % 4))
        done = WorkCalendar().add_working_days(day, 3 if i < 10 else 4)
        records.append(application(f"IUMK-{i:03d}", complete=day, finished=done, name=name, nik=nik))
    # 6 PBG in Delima, all open, 2 already overdue
    for i in range(6):
        name, nik = names_and_niks(100 + i)
        day = date(2025, 5, 2) if i < 2 else date(2025, 6, 20)
        records.append(application(f"PBG-{i:03d}", complete=day, permit=PBG, kelurahan=DELIMA, name=name, nik=nik))
    # 2 IUMK in Sidomulyo Barat: a group too small to show
    for i in range(2):
        name, nik = names_and_niks(200 + i)
        records.append(application(f"SB-{i:03d}", complete=date(2025, 5, 12), finished=date(2025, 5, 15),
                                   kelurahan=SIDOMULYO_BARAT, name=name, nik=nik))
    return records


def complaints() -> list:
    records = []
    for i in range(8):
        _, nik = names_and_niks(300 + i)
        records.append(complaint(f"LPR-{i:03d}", submitted=date(2025, 5, 6),
                                 steps=((S.VERIFIED, date(2025, 5, 7)), (S.DISPOSED, date(2025, 5, 8))),
                                 nik=nik, kelurahan=DELIMA if i < 6 else SIMPANG_BARU))
    return records


async def fake_satisfaction(service: str | None, days) -> dict[str, Any] | None:  # type: ignore[no-untyped-def]
    respondents = {None: 40, "IUMK": 37, "PBG": 3}.get(service, 0)
    if not respondents:
        return None
    return {"respondents": respondents, "index": 82.5, "grade": "B", "gradeLabel": "Baik",
            "elements": [{"code": "U1", "name": "Persyaratan", "nrr": 3.3}]}


@pytest_asyncio.fixture
async def env(tmp_path: Path) -> AsyncIterator[Environment]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metrics_metadata.create_all)
    licensing = InMemoryLicensingSource(applications())
    complaint_source = InMemoryComplaintSource(complaints())
    view = MetricsView(engine)
    await view.refresh(licensing=licensing, complaints=complaint_source, calendar=WorkCalendar(), today=TODAY)
    yield Environment(
        sources=Sources(InMemoryPopulationSource([]), licensing, complaint_source),
        region=load_region(REGION_FILE),
        calendar=WorkCalendar(),
        access=AccessControl(POLICY, load_purposes()),
        metrics=MetricsService(view=view, min_group_size=5, satisfaction=fake_satisfaction),
        today=lambda: TODAY,
    )
    await engine.dispose()


async def run(env: Environment, query: str, principal: Principal = ANONYMOUS, **variables: Any) -> dict[str, Any]:
    if principal.roles not in SCHEMAS:
        SCHEMAS[principal.roles] = build_role_schema(FULL, POLICY, principal.roles)
    ctx = Context.create(env, principal, request_id="test")
    result = await SCHEMAS[principal.roles].execute(query, variable_values=variables, context_value=ctx)
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [format_error(e, request_id="test") for e in result.errors]
    return body


METRICS = """query($kelurahan: [String!], $permitType: [String!]) {
  serviceMetrics(period: {from: "2025-01-01", to: "2025-12-31"}, kelurahan: $kelurahan, permitType: $permitType) {
    asOf period { from to }
    applications { total finished onTime late onTimeShare backlog overdue medianWorkingDays p90WorkingDays
      byStatus { status count }
      byPermitType { code name serviceLevelDays total onTime overdue medianWorkingDays }
      byKelurahan { code name total } }
    complaints { total verifiedWithin3Days verifiedWithin3DaysShare followUpDue
      byCategory { category total } byKelurahan { code total } }
  }
}"""


async def test_an_analyst_reads_the_whole_regions_metrics(env: Environment) -> None:
    body = await run(env, METRICS, ANALYST)
    assert "errors" not in body
    m = body["data"]["serviceMetrics"]
    a = m["applications"]
    assert (a["total"], a["finished"], a["onTime"], a["late"], a["backlog"], a["overdue"]) == (20, 14, 12, 2, 6, 2)
    assert a["onTimeShare"] == pytest.approx(12 / 14)
    assert a["medianWorkingDays"] == 3
    assert {t["code"]: t["total"] for t in a["byPermitType"]} == {"IUMK": 14, "PBG": 6}
    assert {k["name"] for k in a["byKelurahan"]} == {"Simpang Baru", "Delima", "Sidomulyo Barat"}
    assert m["complaints"]["total"] == 8 and m["complaints"]["verifiedWithin3Days"] == 8
    assert m["asOf"] is not None and m["period"] == {"from": "2025-01-01", "to": "2025-12-31"}


async def test_a_kelurahan_officer_sees_only_its_kelurahan(env: Environment) -> None:
    body = await run(env, METRICS, KELURAHAN_OFFICER)
    assert "errors" not in body
    m = body["data"]["serviceMetrics"]
    assert m["applications"]["total"] == 6
    assert [k["code"] for k in m["applications"]["byKelurahan"]] == [DELIMA]
    assert m["complaints"]["total"] == 6


async def test_a_kelurahan_officer_asking_for_another_kelurahan_is_forbidden(env: Environment) -> None:
    body = await run(env, METRICS, KELURAHAN_OFFICER, kelurahan=[SIMPANG_BARU])
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert codes == {"FORBIDDEN"}


async def test_a_licensing_officer_reads_applications_but_not_complaints(env: Environment) -> None:
    body = await run(env, METRICS, LICENSING_OFFICER, permitType=["PBG"])
    m = body["data"]["serviceMetrics"]
    assert m["applications"]["total"] == 6 and m["complaints"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["serviceMetrics", "complaints"], "FORBIDDEN")
    ]


@pytest.mark.parametrize("principal", [ANONYMOUS, CITIZEN], ids=["anonymous", "citizen"])
async def test_the_public_cannot_call_service_metrics(env: Environment, principal: Principal) -> None:
    body = await run(env, METRICS, principal)
    assert body["data"] is None
    assert "serviceMetrics" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("query", "argument"),
    [
        ('{ serviceMetrics(kelurahan: ["14710"]) { asOf } }', "kelurahan"),
        ('{ serviceMetrics(period: {from: "2025-02-01", to: "2025-01-01"}) { asOf } }', "period"),
        ("{ performanceReport(period: {year: 2025, month: 13}) { minimumGroupSize } }", "period.month"),
        ("{ performanceReport(period: {year: 1850}) { minimumGroupSize } }", "period.year"),
    ],
)
async def test_bad_arguments_are_bad_user_input(env: Environment, query: str, argument: str) -> None:
    body = await run(env, query, ANALYST)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == argument


REPORT = """query($year: Int!, $month: Int) { performanceReport(period: {year: $year, month: $month}) {
  period { year month label from to } asOf minimumGroupSize suppressionRule
  applications { suppressed total { value suppressed } finished { value suppressed }
    onTime { value suppressed } late { value suppressed } onTimeShare { value suppressed }
    overdue { value suppressed } backlog { value suppressed } medianWorkingDays { value suppressed } }
  complaints { total { value } verifiedWithin3Days { value suppressed } verifiedWithin3DaysShare { value } }
  satisfaction { suppressed respondents { value } index { value } grade gradeLabel elements { code nrr } }
  services { code name applications { suppressed total { value suppressed } overdue { value suppressed } }
    satisfaction { suppressed index { value suppressed } } }
  kelurahan { code name applications { suppressed total { value suppressed } } complaints { suppressed total { value } } }
  complaintCategories { category complaints { total { value } } }
  achievements { area code measure value message }
  overdueAreas { area code measure value message }
} }"""


async def test_the_public_reads_a_monthly_report_with_small_groups_suppressed(env: Environment) -> None:
    body = await run(env, REPORT, ANONYMOUS, year=2025, month=5)
    assert "errors" not in body
    r = body["data"]["performanceReport"]
    assert r["period"] == {"year": 2025, "month": 5, "label": "Mei 2025", "from": "2025-05-01", "to": "2025-05-31"}
    assert r["minimumGroupSize"] == 5
    a = r["applications"]
    assert a["total"] == {"value": 16, "suppressed": False}  # received in May
    assert a["late"] == {"value": None, "suppressed": True}  # 2 late: the whole breakdown is hidden
    assert a["onTime"]["suppressed"] and a["onTimeShare"] == {"value": None, "suppressed": True}
    assert a["medianWorkingDays"] == {"value": 3.0, "suppressed": False}
    kelurahan = {k["code"]: k for k in r["kelurahan"]}
    assert kelurahan[SIDOMULYO_BARAT]["applications"]["suppressed"] is True  # 2 cases
    assert kelurahan[SIDOMULYO_BARAT]["applications"]["total"] == {"value": None, "suppressed": True}
    # rule 3: Delima (2 PBG in May) is small too; with Sidomulyo Barat hidden, nothing is left alone
    hidden = [code for code, k in kelurahan.items() if k["applications"]["suppressed"]]
    assert len(hidden) != 1
    assert r["satisfaction"]["index"]["value"] == 82.5 and r["satisfaction"]["gradeLabel"] == "Baik"
    services = {s["code"]: s for s in r["services"]}
    assert services["PBG"]["satisfaction"]["suppressed"] is True  # 3 respondents


async def test_a_yearly_report_names_achievements_and_overdue_areas(env: Environment) -> None:
    body = await run(env, REPORT, ANONYMOUS, year=2025)
    assert "errors" not in body
    r = body["data"]["performanceReport"]
    assert r["period"]["label"] == "Tahun 2025" and r["period"]["to"] == "2025-12-31"
    services = {s["code"]: s for s in r["services"]}
    assert services["PBG"]["applications"]["total"]["value"] == 6
    assert r["complaints"]["verifiedWithin3DaysShare"]["value"] == 1.0
    assert any(f["measure"] == "verifiedWithin3DaysShare" and f["area"] == "OVERALL" for f in r["achievements"])
    assert any("Indeks Kepuasan Masyarakat" in f["message"] for f in r["achievements"])
    for finding in r["overdueAreas"]:
        assert finding["measure"] != "overdue" or finding["value"] >= 5


async def test_no_report_holds_a_name_or_a_nik(env: Environment) -> None:
    texts = []
    for month in (None, 5, 6):
        body = await run(env, REPORT, ANONYMOUS, year=2025, month=month)
        assert "errors" not in body
        texts.append(json.dumps(body))
    text = "\n".join(texts)
    assert not re.search(r"\d{16}", text)
    for record in applications():
        assert record.applicant_name not in text
    assert "Siti Aminah" not in text  # inside every complaint's content


async def test_every_role_may_read_the_report(env: Environment) -> None:
    query = "{ performanceReport(period: {year: 2025}) { applications { total { value } } } }"
    assert len(POLICY.roles) >= 9
    for role in sorted(POLICY.roles):
        principal = Principal(subject="x", roles=frozenset({role}), kelurahan=DELIMA, nik="1471080101800001")
        body = await run(env, query, principal)
        assert "errors" not in body, role
        assert body["data"]["performanceReport"]["applications"]["total"]["value"] == 20


async def test_without_a_metrics_view_the_fields_say_so(env: Environment) -> None:
    from dataclasses import replace

    bare = replace(env, metrics=None)
    body = await run(bare, "{ performanceReport(period: {year: 2025}) { minimumGroupSize } }")
    assert body["errors"][0]["extensions"] == {"code": "SOURCE_UNAVAILABLE", "source": "metrics"}


class _RefreshedMidway(MetricsView):
    """A view whose first refresh completes just after a reader took its (still empty)
    application figures: what a hub sees when a report is asked for during start-up."""

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        self.pending = True

    async def application_metrics(self, *args: Any, **kwargs: Any) -> Any:
        figures = await super().application_metrics(*args, **kwargs)
        if self.pending:
            self.pending = False
            await self.refresh(licensing=InMemoryLicensingSource(applications()),
                               complaints=InMemoryComplaintSource(complaints()),
                               calendar=WorkCalendar(), today=TODAY)
        return figures


async def test_a_report_never_claims_a_freshness_its_figures_lack(env: Environment, tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metrics_metadata.create_all)
    view = _RefreshedMidway(engine)
    midway = replace(env, metrics=MetricsService(view=view, min_group_size=5, satisfaction=fake_satisfaction))
    try:
        body = await run(midway, REPORT, ANONYMOUS, year=2025, month=5)
    finally:
        await engine.dispose()

    assert not view.pending  # the refresh did land while the report was being built
    report = body["data"]["performanceReport"]
    # figures read before the refresh are empty: the report must not call them fresh
    assert report["asOf"] is None and report["applications"]["total"]["value"] == 0
