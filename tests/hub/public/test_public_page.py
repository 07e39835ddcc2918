"""The public page and the survey form over HTTP (no browser)."""

from __future__ import annotations

import asyncio
import gzip
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLNonNull,
    GraphQLString,
)
from tests.hub.public.public_world import (
    ANSWERS,
    COMPLAINT,
    ISSUED,
    public_settings,
    public_sources,
    seed_surveys,
)
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


def test_the_satisfaction_index_is_a_table_of_its_elements_drawn_as_bars(client: TestClient) -> None:
    html = client.get("/").text
    # 3 answers: sums 11 10 10 11 10 10 11 8 10 = 91; 91 / 27 x 25 = 84.26, B
    assert "84,26" in html and "mutu B (Baik)" in html and "3 responden" in html
    chart = re.search(r'<figure id="grafik-ikm">(.*?)</figure>', html, re.DOTALL)
    assert chart is not None
    body = chart.group(1)
    assert body.count('class="bar"') == 9
    assert '<table class="chart" role="table" aria-labelledby="judul-ikm"' in body
    rows = re.findall(r'<th role="rowheader" scope="row">([^<]*)</th>\s*<td role="cell" class="nilai">([^<]*)</td>', body)
    assert len(rows) == 9 and rows[0][0] == "U1 Persyaratan" and rows[0][1].startswith("3,67")
    assert '<th role="columnheader" scope="col">Unsur pelayanan</th>' in body
    assert '<td class="batang" aria-hidden="true">' in body  # the bars are not read out
    assert "<svg" not in html


def test_the_page_is_small_and_compressed_and_loads_nothing_from_elsewhere(client: TestClient) -> None:
    raw = client.get("/", headers={"Accept-Encoding": "identity"})
    zipped = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert len(raw.content) < 20_000
    assert zipped.headers["content-encoding"] == "gzip"
    assert len(gzip.compress(raw.content)) < 6_000
    assert not re.search(r'(src|href)="(https?:)?//', raw.text)
    csp = raw.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'nonce-" in csp
    assert "<script" not in raw.text  # tracking is the form's GET: the page runs no script
    survey = client.get("/survei", headers={"Accept-Encoding": "identity"})
    nonce = re.search(r"'nonce-([^']+)'", survey.headers["content-security-policy"]).group(1)  # type: ignore[union-attr]
    assert f'<script nonce="{nonce}">' in survey.text


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


def test_tracking_is_answered_by_the_forms_get_without_javascript(client: TestClient) -> None:
    html = client.get("/", params={"jenis": "permohonan", "nomor": ISSUED}).text
    result = re.search(r'<div id="hasil" class="result ok">(.*?)</div>', html, re.DOTALL)
    assert result is not None, html
    assert ISSUED in result.group(1) and "Persetujuan Bangunan Gedung" in result.group(1)
    assert "Status: <b>Izin terbit</b>" in result.group(1)
    assert result.group(1).count("<li>") == 3
    assert "Budi" not in html and "1471080101800001" not in html  # no personal data
    assert 'value="' + ISSUED + '"' in html  # the form keeps the number


def test_times_are_shown_in_the_regions_time_zone_with_its_label(client: TestClient) -> None:
    html = client.get("/", params={"nomor": ISSUED}).text
    times = re.findall(r'<time datetime="([^"]+)">([^<]+)</time>', html)
    assert times
    for stamp, shown in times:
        local = datetime.fromisoformat(stamp).astimezone(ZoneInfo("Asia/Jakarta"))
        assert shown == f"{local:%Y-%m-%d %H:%M} WIB"
    assert " UTC" not in html


def test_a_complaint_number_typed_as_an_application_is_recognised(client: TestClient) -> None:
    html = client.get("/", params={"jenis": "permohonan", "nomor": COMPLAINT}).text
    assert 'id="jenis-lain"' in html and "Nomor ini adalah nomor pengaduan" in html
    assert 'id="status"' in html and COMPLAINT in html
    html = client.get("/", params={"jenis": "pengaduan", "nomor": ISSUED}).text
    assert "Nomor ini adalah nomor permohonan izin" in html and "Izin terbit" in html


def test_an_unknown_or_overlong_number_is_reported_not_found(client: TestClient) -> None:
    html = client.get("/", params={"nomor": "503/DPMPTSP/2025/999999-ZZZZ"}).text
    assert "tidak ditemukan" in html and 'class="result warn"' in html
    html = client.get("/", params={"nomor": "9" * 500}).text
    assert "Nomor terlalu panjang" in html and "9" * 65 not in html


def test_the_favicon_is_served_from_the_package(client: TestClient) -> None:
    html = client.get("/").text
    assert '<link rel="icon" href="/favicon.svg" type="image/svg+xml">' in html
    for path in ("/favicon.svg", "/favicon.ico"):
        icon = client.get(path)
        assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
        assert icon.content.startswith(b"<svg")


class _Public:
    def has_root_field(self, name: str) -> bool:
        return True

    def root_field_arguments(self, name: str) -> dict:
        return {"year": GraphQLArgument(GraphQLNonNull(GraphQLInt)), "month": GraphQLArgument(GraphQLInt)}


def test_figures_from_before_the_first_metrics_refresh_are_not_kept() -> None:
    from hub.public.routes import _Figures

    answers: list[str | None] = [None, None, "2025-08-01T00:00:00+07:00"]
    calls = []

    async def execute(query, variables, request_id, address):  # type: ignore[no-untyped-def]
        if "performanceReport" not in query:
            return {"data": {"satisfactionIndex": None}}
        calls.append(query)
        return {"data": {"performanceReport": {"asOf": answers[min(len(calls), 3) - 1]}}}

    figures = _Figures(execute, _Public())  # type: ignore[arg-type]
    july = ReportPeriod(2025, 7)

    async def twice() -> list[object]:
        return [(await figures.for_period(july, date(2025, 8, 1), "r"))["report"].as_of for _ in range(4)]

    seen = asyncio.run(twice())
    # not yet refreshed: asked again each time; once fresh, kept (no further calls)
    assert seen == [None, None, "2025-08-01T00:00:00+07:00", "2025-08-01T00:00:00+07:00"]
    assert len(calls) == 3
