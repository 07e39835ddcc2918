"""The metrics view against the real sample services (separate programs, REST, change
feeds), and the assembled hub keeping it fresh and publishing reports without a NIK or
a resident's name."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path

import pytest
import pytest_asyncio
from tests.support.metrics_cases import REGION_FILE, sqlite_store  # noqa: F401
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.testclient import TestClient

from connectors.complaints.rest import RestComplaintSource
from connectors.licensing import codes
from connectors.licensing.rest import RestLicensingSource
from connectors.metrics import MetricsFilter, MetricsView
from connectors.records import ApplicationFilter, ComplaintFilter, PageRequest
from connectors.workdays import WorkCalendar
from hub.app import create_app
from hub.demo import DemoSources, demo_settings, ensure_demo_data, start_demo_sources

TODAY = date(2026, 11, 28)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSources]:
    data_dir = tmp_path_factory.mktemp("metrics-demo")
    ensure_demo_data(data_dir, residents=1000, region_file=REGION_FILE)
    # a fixed key: a random one may start with "-", which the services' command line
    # then takes for an option (hub.demo passes it as a separate argument)
    (data_dir / "demo-api-key").write_text("metrics-test-key")
    stack = start_demo_sources(data_dir)
    try:
        yield stack
    finally:
        stack.stop()


@pytest_asyncio.fixture
async def rest(demo: DemoSources) -> AsyncIterator[tuple[RestLicensingSource, RestComplaintSource]]:
    licensing = RestLicensingSource(demo.url_of("licensing"), api_key=demo.api_key)
    complaints = RestComplaintSource(demo.url_of("complaints"), api_key=demo.api_key)
    yield licensing, complaints
    await licensing.aclose()
    await complaints.aclose()


async def test_the_view_follows_the_real_services_change_feeds(
    rest: tuple[RestLicensingSource, RestComplaintSource], sqlite_store: AsyncEngine  # noqa: F811
) -> None:
    licensing, complaints = rest
    view = MetricsView(sqlite_store)
    calendar = WorkCalendar()
    first = await view.refresh(licensing=licensing, complaints=complaints, calendar=calendar, today=TODAY)
    assert all(r.backfilled for r in first)
    apps_total = (await licensing.list_applications(ApplicationFilter(), PageRequest(first=1, with_total=True))).total
    cmps_total = (await complaints.list_complaints(ComplaintFilter(), PageRequest(first=1, with_total=True))).total
    metrics = await view.service_metrics(MetricsFilter())
    assert metrics.applications.summary.total == apps_total > 0
    assert metrics.complaints.summary.total == cmps_total > 0

    page = await licensing.list_applications(ApplicationFilter(), PageRequest(first=200))
    record = next(r for r in page.items if codes.TRANSITIONS.get(r.status))
    target = min(codes.TRANSITIONS[record.status], key=lambda s: s.value)
    await licensing.update_status(record.number, target, note="uji metrik", actor="test")

    second = await view.refresh(licensing=licensing, complaints=complaints, calendar=calendar, today=TODAY)
    changed = {r.source_id: r for r in second}["licensing"]
    assert (changed.backfilled, changed.changes, changed.written) == (False, 1, 1)
    counts = {s.status: s.count for s in (await view.application_metrics(MetricsFilter())).by_status}
    before = {s.status: s.count for s in metrics.applications.by_status}
    assert counts.get(target.value, 0) == before.get(target.value, 0) + 1
    assert counts.get(record.status.value, 0) == before[record.status.value] - 1  # a status at 0 is not listed


REPORT = """query($year: Int!, $month: Int) { performanceReport(period: {year: $year, month: $month}) {
  asOf period { label }
  applications { total { value suppressed } onTimeShare { value suppressed } medianWorkingDays { value } }
  complaints { total { value } verifiedWithin3DaysShare { value suppressed } }
  services { code name applications { total { value suppressed } overdue { value suppressed } } }
  kelurahan { code name applications { total { value suppressed } } complaints { total { value suppressed } } }
  complaintCategories { category complaints { total { value suppressed } } }
  achievements { message } overdueAreas { message }
} }"""


def test_the_hub_keeps_the_view_fresh_and_its_reports_hold_no_personal_data(
    demo: DemoSources, tmp_path: Path
) -> None:
    settings = demo_settings(demo, store_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    with sqlite3.connect(demo.data_dir / "population.db") as db:
        residents = db.execute('SELECT "NIK", "NAMA_LGKP" FROM "BIODATA_WNI"').fetchall()
    assert len(residents) == 1000
    # the sample's 40 applications fall in the two years up to the day it was generated
    # (today), so this calendar year and the last one together span a year of them or more
    this_year = date.today().year
    with TestClient(create_app(settings)) as client:
        deadline = time.monotonic() + 60
        while True:
            body = client.post("/graphql", json={"query": REPORT, "variables": {"year": this_year}}).json()
            if body.get("data") and body["data"]["performanceReport"]["asOf"] is not None:
                break
            assert time.monotonic() < deadline, body
            time.sleep(0.2)
        texts = [json.dumps(body)]
        years = {this_year: body}
        for year, month in ((this_year - 1, None), (this_year - 1, 3), (this_year, 6), (this_year, 11)):
            answer = client.post("/graphql", json={"query": REPORT, "variables": {"year": year, "month": month}})
            assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
            texts.append(answer.text)
            if month is None:
                years[year] = answer.json()
    # Which of the two years holds enough of them to be shown (not suppressed as a small
    # group) depends on the day the sample was generated; with ~20 between them, one does.
    totals = {year: b["data"]["performanceReport"]["applications"]["total"]["value"] for year, b in years.items()}
    assert max(value or 0 for value in totals.values()) > 0, totals
    text = "\n".join(texts)
    assert not re.search(r"\d{16}", text)
    leaked = [name for _, name in residents if name in text]
    assert leaked == []
