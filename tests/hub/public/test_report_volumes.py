"""At `hub demo`'s default scale, a month's public report shows most permit types and
complaint categories; small-count suppression hides only the thin ones (demo/VOLUMES.md)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from hub.app import create_app
from hub.cli import DEFAULT_RESIDENTS
from hub.demo import DemoSources, demo_settings
from hub.demo_surveys import seed_demo_surveys
from hub.public.report import chosen_period
from tests.hub.stack import demo_stack

HIDDEN = "disembunyikan"


@pytest.fixture(scope="module")
def default_scale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSources]:
    with demo_stack(tmp_path_factory.mktemp("default-scale"), residents=DEFAULT_RESIDENTS) as stack:
        yield stack


def _rows(html: str, chart: str) -> list[str]:
    """The value shown at the end of each bar of a chart."""
    figure = re.search(rf'<figure id="grafik-{chart}">(.*?)</figure>', html, re.DOTALL)
    assert figure is not None, f"no chart {chart}"
    values = re.findall(r'<td role="cell" class="nilai">([^<]*)</td>', figure.group(1))
    assert values, f"chart {chart} has no table of values"
    return values


def _wait_for_the_figures(client: TestClient, year: int, month: int) -> None:
    """The hub fills its service metrics in the background after it starts."""
    query = ("query($p: ReportPeriodInput!) { performanceReport(period: $p) { asOf "
             "applications { total { value } } complaints { total { value } } } }")
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        body = client.post("/graphql", json={"query": query, "variables": {"p": {"year": year, "month": month}}}).json()
        report = (body.get("data") or {}).get("performanceReport") or {}
        if report.get("asOf") and (report["applications"]["total"]["value"] or 0) > 0 \
                and (report["complaints"]["total"]["value"] or 0) > 0:
            return
        time.sleep(1)
    raise AssertionError(f"the report never filled: {body}")


def test_a_month_at_the_default_scale_shows_most_permit_types_and_categories(
    default_scale: DemoSources, tmp_path: Path,
) -> None:
    settings = demo_settings(default_scale, store_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    asyncio.run(seed_demo_surveys(settings))
    with TestClient(create_app(settings)) as client:
        period = chosen_period({}, today=date.today())  # the demo's data ends today
        _wait_for_the_figures(client, period.year, period.month)
        html = client.get("/").text
    counts = {}
    for chart in ("waktu", "pengaduan"):
        values = _rows(html, chart)
        hidden = sum(value == HIDDEN for value in values)
        counts[chart] = (len(values) - hidden, hidden)
    print("shown, hidden per chart:", counts)
    shown_types, hidden_types = counts["waktu"]
    shown_categories, hidden_categories = counts["pengaduan"]
    assert shown_types > hidden_types and shown_types >= 8, counts
    assert shown_categories > hidden_categories and shown_categories >= 5, counts
