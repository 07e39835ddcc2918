"""The public page in headless Chromium (Debian's `chromium`, driven by Playwright's
Python package): track an application, see its status, see the report's charts, answer
the survey, and render on a phone-sized screen."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.hub.public.public_world import (
    ANSWERS,
    ISSUED,
    RUNNING,
    public_settings,
    public_sources,
    seed_surveys,
)

from hub.app import create_app
from tests.support.browser import NO_CHROMIUM, chromium, has_chromium, serving

pytestmark = pytest.mark.skipif(not has_chromium(), reason=NO_CHROMIUM)
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright Python package")


@pytest.fixture(scope="module")
def hub_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The hub on a free 127.0.0.1 port, with in-memory sources and seeded surveys."""
    settings = public_settings(tmp_path_factory.mktemp("hub"))
    # Playwright's sync API may hold this thread's event loop: seed from another thread
    seeding = threading.Thread(target=asyncio.run, args=(seed_surveys(settings, ANSWERS),))
    seeding.start()
    seeding.join()
    with serving(create_app(settings, sources=public_sources())) as url:
        yield url


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    with chromium(sync_api) as launched:
        yield launched


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="id-ID")
    page = context.new_page()
    yield page
    context.close()


def track(page, number: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("#nomor", number)
    page.click("#form-lacak button[type=submit]")
    page.wait_for_selector("#hasil #status", timeout=10_000)


def test_a_citizen_tracks_a_finished_application_and_sees_its_status(page, hub_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(hub_url + "/")
    track(page, ISSUED)
    result = page.inner_text("#hasil")
    assert ISSUED in result
    assert "Persetujuan Bangunan Gedung" in result
    assert "Status: Izin terbit" in result
    assert page.locator("#hasil ol.history li").count() == 3
    assert "Budi" not in result and "1471080101800001" not in result  # no personal data


def test_a_running_application_shows_its_current_step_and_due_date(page, hub_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(hub_url + "/")
    track(page, RUNNING)
    result = page.inner_text("#hasil")
    assert "Status: Pemeriksaan berkas" in result
    assert "Batas waktu layanan" in result


def test_an_unknown_number_is_reported_not_found(page, hub_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(hub_url + "/")
    page.fill("#nomor", "503/DPMPTSP/2025/999999-ZZZZ")
    page.click("#form-lacak button[type=submit]")
    page.wait_for_function("document.getElementById('hasil').innerText.includes('tidak ditemukan')",
                           timeout=10_000)


def test_the_report_section_renders_its_charts_as_svg(page, hub_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(hub_url + "/")
    charts = page.locator("#laporan svg, #kepuasan svg")
    assert charts.count() >= 1
    ikm = page.locator("#grafik-ikm svg")
    assert ikm.locator("rect.bar").count() == 9
    box = ikm.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 100
    assert "84,26" in page.inner_text("#kepuasan")


def test_the_survey_is_answered_in_the_browser(page, hub_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(hub_url + "/survei")
    page.select_option("#layanan", "PENGADUAN")
    for number in range(1, 10):
        page.check(f"input[name=u{number}][value='4']")
    page.select_option("#sex", "FEMALE")
    page.click("#form-survei button[type=submit]")
    page.wait_for_selector("#tanda-terima", timeout=10_000)
    assert "SKM-" in page.inner_text("#tanda-terima")


def test_the_page_fits_a_phone_screen(browser, hub_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, locale="id-ID")
    try:
        page = context.new_page()
        page.goto(hub_url + "/")
        track(page, ISSUED)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than the phone"
        shot = tmp_path / "public-phone.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
    finally:
        context.close()
