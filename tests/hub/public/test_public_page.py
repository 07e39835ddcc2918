"""The public page and the survey form over HTTP (no browser)."""

from __future__ import annotations

import asyncio
import gzip
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLNonNull,
    GraphQLString,
)
from tests.hub.public.public_world import ANSWERS, public_settings, public_sources, seed_surveys
from starlette.testclient import TestClient

from hub.app import create_app
from hub.public.report import ReportPeriod, chosen_period, report_from, report_query

SURVEY = {"layanan": "PBG", **{f"u{i}": "3" for i in range(1, 10)}, "kunci": "form-1"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = public_settings(tmp_path)
    asyncio.run(seed_surveys(settings, ANSWERS))
    with TestClient(create_app(settings, sources=public_sources())) as test_client:
        yield test_client


def test_the_page_is_in_indonesian_with_tracking_report_and_survey_link(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="id">' in html
    assert 'id="form-lacak"' in html and "Lacak permohonan atau pengaduan" in html
    assert "Laporan kinerja" in html
    assert 'href="/survei"' in html


def test_the_satisfaction_index_is_drawn_per_element_as_inline_svg(client: TestClient) -> None:
    html = client.get("/").text
    # 3 answers: sums 11 10 10 11 10 10 11 8 10 = 91; 91 / 27 x 25 = 84.26, B
    assert "84,26" in html and "mutu B (Baik)" in html and "3 responden" in html
    chart = re.search(r'<figure id="grafik-ikm">(.*?)</figure>', html, re.DOTALL)
    assert chart is not None
    assert chart.group(1).count('class="bar"') == 9
    assert "U1 Persyaratan" in chart.group(1)


def test_the_page_is_small_and_compressed_and_loads_nothing_from_elsewhere(client: TestClient) -> None:
    raw = client.get("/", headers={"Accept-Encoding": "identity"})
    zipped = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert len(raw.content) < 20_000
    assert zipped.headers["content-encoding"] == "gzip"
    assert len(gzip.compress(raw.content)) < 6_000
    assert not re.search(r'(src|href)="(https?:)?//', raw.text)
    csp = raw.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'nonce-" in csp
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)  # type: ignore[union-attr]
    assert f'<script nonce="{nonce}">' in raw.text


def test_a_month_is_chosen_by_query_parameter(client: TestClient) -> None:
    html = client.get("/?bulan=2025-07").text
    assert "Juli 2025" in html


def test_the_survey_form_lists_permit_types_and_complaint_handling(client: TestClient) -> None:
    html = client.get("/survei").text
    assert re.findall(r'<option value="([A-Z]+)"', html)[:3] == ["IUMK", "PBG", "PENGADUAN"]
    assert html.count('type="radio"') == 9 * 4
    assert 'name="kunci"' in html


def test_the_survey_works_without_javascript(client: TestClient) -> None:
    response = client.post("/survei", data=SURVEY)
    assert response.status_code == 200
    assert re.search(r"nomor <b>SKM-[A-Z0-9]{10}</b>", response.text)
    again = client.post("/survei", data=SURVEY)  # a double submit stores one answer
    assert re.search(r"SKM-[A-Z0-9]{10}", again.text).group(0) == re.search(  # type: ignore[union-attr]
        r"SKM-[A-Z0-9]{10}", response.text).group(0)  # type: ignore[union-attr]
    index = client.post("/graphql", json={"query": "{ satisfactionIndex(service: \"PBG\") { respondents } }"})
    assert index.json()["data"]["satisfactionIndex"]["respondents"] == 3


def test_an_incomplete_survey_is_returned_with_a_message(client: TestClient) -> None:
    response = client.post("/survei", data={"layanan": "PBG", "u1": "4"})
    assert response.status_code == 400
    assert "Mohon beri nilai untuk pertanyaan 2." in response.text


def test_the_latest_report_is_the_last_complete_month() -> None:
    assert chosen_period({}, today=date(2025, 3, 5)) == ReportPeriod(2025, 2)
    assert chosen_period({}, today=date(2025, 1, 5)) == ReportPeriod(2024, 12)
    assert chosen_period({"bulan": "2024-13"}, today=date(2025, 3, 5)) == ReportPeriod(2025, 2)
    assert chosen_period({"tahun": "2024"}, today=date(2025, 3, 5)) == ReportPeriod(2024, None)
    assert ReportPeriod(2024, 2).last == date(2024, 2, 29)


def test_the_report_query_follows_the_fields_arguments() -> None:
    july = ReportPeriod(2025, 7)
    year_month = {"year": GraphQLArgument(GraphQLNonNull(GraphQLInt)), "month": GraphQLArgument(GraphQLInt)}
    assert "performanceReport(year: 2025, month: 7)" in report_query(year_month, july)  # type: ignore[operator]
    assert "performanceReport(year: 2025)" in report_query(year_month, ReportPeriod(2025, None))  # type: ignore[operator]
    period_input = GraphQLInputObjectType("ReportPeriodInput", {
        "year": GraphQLInputField(GraphQLNonNull(GraphQLInt)), "month": GraphQLInputField(GraphQLInt)})
    assert "performanceReport(period: {year: 2025, month: 7})" in report_query(  # type: ignore[operator]
        {"period": GraphQLArgument(GraphQLNonNull(period_input))}, july)
    unknown = {"region": GraphQLArgument(GraphQLNonNull(GraphQLString))}
    assert report_query(unknown, july) is None


def test_suppressed_figures_show_as_hidden_not_as_zero() -> None:
    data = {"performanceReport": {
        "period": {"label": "Juli 2025"}, "asOf": "2025-08-01T00:00:00+07:00", "minimumGroupSize": 5,
        "applications": {"total": {"value": 120, "suppressed": False},
                         "onTimeShare": {"value": 0.82, "suppressed": False}},
        "complaints": {"total": {"value": None, "suppressed": True}},
        "services": [
            {"code": "PBG", "name": "Persetujuan Bangunan Gedung", "applications": {
                "medianWorkingDays": {"value": 14.5, "suppressed": False},
                "p90WorkingDays": {"value": 22.0, "suppressed": False},
                "onTimeShare": {"value": 0.75, "suppressed": False}}},
            {"code": "SIA", "name": "Surat Izin Apotek", "applications": {
                "medianWorkingDays": {"value": None, "suppressed": True},
                "p90WorkingDays": {"value": None, "suppressed": True},
                "onTimeShare": {"value": None, "suppressed": True}}},
        ],
        "complaintCategories": [{"category": "Infrastruktur", "complaints": {"total": {"value": 9, "suppressed": False}}}],
        "achievements": [{"message": "PBG selesai tepat waktu 75%"}], "overdueAreas": [],
    }}
    page = report_from(data, ReportPeriod(2025, 7))
    assert page.available and page.label == "Juli 2025"
    assert ("Pengaduan", "disembunyikan") in page.summary
    assert ("Selesai tepat waktu", "82%") in page.summary
    times, on_time, categories = page.charts
    assert times.bars[0].value == 14.5 and times.bars[0].marker == 22.0 and times.maximum == 22.0
    assert times.bars[1].value is None and times.bars[1].text == "disembunyikan"
    assert on_time.bars[0].text == "75%"
    assert categories.bars == [categories.bars[0]] and categories.bars[0].text == "9"
    assert page.achievements == ["PBG selesai tepat waktu 75%"]


def test_a_missing_or_failed_report_leaves_the_page_without_it() -> None:
    assert report_from(None, ReportPeriod(2025, 7)).available is False
    assert report_from({"performanceReport": None}, ReportPeriod(2025, 7)).charts == []
