"""The public page in headless Chromium (Debian's `chromium`, driven by Playwright's
Python package): track an application (with and without JavaScript), see its status and
times in WIB, see the report's charts with their tables, answer the survey, and render at
1280 px and on a 390 px phone: chart text no larger than body text, "disembunyikan" inside
its tile, nothing wider than the screen. Set SIMPUL_SCREENSHOTS=DIR to keep screenshots."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from tests.hub.public.public_world import (
    ANSWERS,
    COMPLAINT,
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


def test_each_chart_is_a_table_of_its_values_with_bars(page, hub_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(hub_url + "/")
    figures = page.locator("figure")
    assert figures.count() >= 1
    assert page.locator("figure table.chart").count() == figures.count()
    ikm = page.locator("#grafik-ikm")
    table = page.get_by_role("table", name="Indeks kepuasan masyarakat per unsur")
    assert table.count() == 1
    assert table.get_by_role("row").count() == 10  # a header row and nine elements
    assert table.get_by_role("rowheader", name="U1 Persyaratan").count() == 1
    assert ikm.locator(".bar").count() == 9
    box = ikm.locator(".bar").first.bounding_box()
    assert box is not None and box["width"] > 20 and box["height"] > 5
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


WIDTHS = [pytest.param(1280, id="1280px"), pytest.param(390, id="390px")]


@contextmanager
def _page_at(browser, width: int, url: str, **options):  # type: ignore[no-untyped-def]
    """A page `width` px wide (a phone below 500 px) that has opened `url`."""
    phone = width < 500
    context = browser.new_context(viewport={"width": width, "height": 844 if phone else 900},
                                  device_scale_factor=2 if phone else 1, is_mobile=phone, has_touch=phone,
                                  locale="id-ID", **options)
    try:
        page = context.new_page()
        page.goto(url)
        yield page
    finally:
        context.close()


def _screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    folder = os.environ.get("SIMPUL_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_chart_text_is_never_larger_than_body_text(browser, hub_url: str, width: int) -> None:  # type: ignore[no-untyped-def]
    with _page_at(browser, width, hub_url + "/") as page:
        body = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        sizes = page.evaluate("""[...document.querySelectorAll('figure table.chart th, figure table.chart td')]
            .filter(e => e.getBoundingClientRect().width > 1)
            .map(e => parseFloat(getComputedStyle(e).fontSize))""")
        assert sizes and max(sizes) <= body, (sizes, body)
        # and its rendered glyphs are that size: the chart is not a scaled picture
        heights = page.evaluate("""[...document.querySelectorAll('figure table.chart td.nilai')]
            .map(e => e.getBoundingClientRect().height)""")
        assert heights and max(heights) <= body * 1.6
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than the screen"
        _screenshot(page, f"public-{width}")


@pytest.mark.parametrize("width", WIDTHS)
def test_hidden_figures_fit_their_tiles(browser, hub_url: str, width: int) -> None:  # type: ignore[no-untyped-def]
    with _page_at(browser, width, hub_url + "/") as page:
        tiles = page.evaluate("""[...document.querySelectorAll('.summary > div')].map(d => {
            const b = d.querySelector('b'), t = d.getBoundingClientRect(), v = b.getBoundingClientRect();
            return {text: b.textContent, inside: v.left >= t.left - 0.5 && v.right <= t.right + 0.5,
                    clipped: b.scrollWidth > b.clientWidth + 0.5};
        })""")
        hidden = [tile for tile in tiles if tile["text"] == "disembunyikan"]
        assert hidden, tiles  # the small world hides some of its figures
        for tile in tiles:
            assert tile["inside"] and not tile["clipped"], tile


@pytest.mark.parametrize("width", WIDTHS)
def test_tracking_works_without_javascript(browser, hub_url: str, width: int) -> None:  # type: ignore[no-untyped-def]
    with _page_at(browser, width, hub_url + "/", java_script_enabled=False) as page:
        page.fill("#nomor", ISSUED)
        page.click("#form-lacak button[type=submit]")
        page.wait_for_selector("#hasil #status", timeout=10_000)
        result = page.inner_text("#hasil")
        assert "Status: Izin terbit" in result and "Persetujuan Bangunan Gedung" in result
        times = page.locator("#hasil time")
        assert times.count() == 3 and all(t.endswith(" WIB") for t in times.all_inner_texts())
        assert "nomor=" in page.url
        _screenshot(page, f"tracking-nojs-{width}")


def test_a_complaint_number_in_the_application_tab_is_recognised(page, hub_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(hub_url + "/")
    page.check("input[name=jenis][value=permohonan]")
    track(page, COMPLAINT)
    result = page.inner_text("#hasil")
    assert "Nomor ini adalah nomor pengaduan" in result and COMPLAINT in result


def test_the_page_has_a_favicon(page, hub_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(hub_url + "/")
    href = page.get_attribute("link[rel=icon]", "href")
    assert href == "/favicon.svg"
    icon = page.request.get(hub_url + href)
    assert icon.ok and icon.headers["content-type"].startswith("image/svg+xml")
