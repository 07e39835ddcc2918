"""The citizen page in headless Chromium (Debian's `chromium`, Playwright's Python
package), at 1280 px and on a 390 px phone, with JavaScript on and off: sign in through
the development identity provider, apply with documents, see the receipt; the officer
(GraphQL, in the test) marks the file incomplete; the resident sends the missing document
from "Permohonan saya"; the officer approves; the resident sees the decision. Nothing is
wider than the screen. Set SIMPUL_SCREENSHOTS=DIR to keep screenshots."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import NO_CHROMIUM, chromium, has_chromium
from tests.support.intake import IUMK_DOCUMENTS, PDF

pytestmark = pytest.mark.skipif(not has_chromium(), reason=NO_CHROMIUM)
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright Python package")

MARK = """mutation M($n: String!) { markApplicationIncomplete(number: $n, missing: ["KARTU_KELUARGA"],
  note: "Foto KK buram, kirim ulang") { status } }"""
MOVE = """mutation M($n: String!, $s: ApplicationStatus!) { updateApplicationStatus(number: $n, status: $s) { status } }"""
STEPS = ["FILE_CHECK", "DATA_ENTRY", "RECOMMENDATION", "DECISION", "DRAFT_DECREE", "INITIALLED", "SIGNED", "ISSUED"]
RUNS = [pytest.param(1280, True, 11, id="1280px"), pytest.param(390, True, 12, id="390px"),
        pytest.param(390, False, 13, id="390px-no-javascript"), pytest.param(1280, False, 14, id="1280px-no-javascript")]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium(sync_api) as running:
        yield running


@contextmanager
def _page_at(browser: Any, width: int, javascript: bool) -> Iterator[Any]:
    phone = width < 500
    context = browser.new_context(viewport={"width": width, "height": 844 if phone else 900},
                                  device_scale_factor=2 if phone else 1, is_mobile=phone, has_touch=phone,
                                  locale="id-ID", java_script_enabled=javascript)
    try:
        yield context.new_page()
    finally:
        context.close()


def _screenshot(page: Any, name: str) -> None:
    folder = os.environ.get("SIMPUL_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"warga-{name}.png"), full_page=True)


def _fits(page: Any, width: int) -> None:
    """Nothing wider than the screen (measured only where the page may run a script)."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize(("width", "javascript", "who"), RUNS)
def test_the_whole_path_in_chromium(browser: Any, url: str, people: list[tuple[str, str]], officer: Any,
                                    tmp_path: Path, width: int, javascript: bool, who: int) -> None:
    nik, kelurahan = people[who]
    files = {}
    for code, (name, content) in IUMK_DOCUMENTS.items():
        files[code] = tmp_path / name
        files[code].write_bytes(content)
    (tmp_path / "kk-baru.pdf").write_bytes(PDF + b"baru")
    run = f"{width}{'' if javascript else '-nojs'}"
    with _page_at(browser, width, javascript) as page:
        page.goto(f"{url}/warga/")
        _screenshot(page, f"{run}-1-masuk")
        page.click("a[href='/warga/masuk']")
        page.wait_for_selector("text=DEVELOPMENT ONLY")
        _screenshot(page, f"{run}-2-dev-idp")
        page.fill("#nik-lain", nik)  # a resident typed in (the list offers the first few)
        page.click("#masuk-nik")
        page.wait_for_selector("h1:has-text('Permohonan saya')")
        page.click("nav >> text=Ajukan permohonan")
        page.select_option("#jenis-pilih", "IUMK")
        page.click("text=Lihat persyaratan")
        page.wait_for_selector("input[name='berkas.KTP_PEMOHON']")
        page.select_option("#kelurahan", kelurahan)
        page.fill("#alamat", "Jl. Delima 3")
        for code, path in files.items():
            page.set_input_files(f"input[name='berkas.{code}']", str(path))
        if javascript:
            _fits(page, width)
        _screenshot(page, f"{run}-3-ajukan")
        page.click("text=Kirim permohonan")
        page.wait_for_selector("#tanda-terima")
        number = page.inner_text("#nomor").strip()
        assert number.startswith("503/") and page.inner_text("#status") == "Diajukan"
        _screenshot(page, f"{run}-4-tanda-terima")

        officer(MOVE, number, n=number, s="FILE_CHECK")
        officer(MARK, number, n=number)
        page.click("nav >> text=Permohonan saya")
        page.click(f"text={number}")
        page.wait_for_selector("#lengkapi")
        assert page.inner_text("#status") == "Berkas tidak lengkap"
        assert "Foto KK buram" in page.content()
        page.set_input_files("input[name='berkas.KARTU_KELUARGA']", str(tmp_path / "kk-baru.pdf"))
        if javascript:
            _fits(page, width)
        _screenshot(page, f"{run}-5-lengkapi")
        page.click("text=Kirim berkas")
        page.wait_for_selector("text=Berkas terkirim")
        assert page.inner_text("#status") == "Diajukan" and page.query_selector("#lengkapi") is None

        for status in STEPS:
            officer(MOVE, number, n=number, s=status)
        page.reload()
        assert page.inner_text("#status") == "Izin terbit"
        if javascript:
            _fits(page, width)
        _screenshot(page, f"{run}-6-keputusan")
        page.click("text=Keluar")
        page.wait_for_selector("text=Ajukan izin tanpa datang ke kantor")


def test_a_bad_document_is_shown_on_the_page_without_javascript(browser: Any, url: str,
                                                                 people: list[tuple[str, str]],
                                                                 tmp_path: Path) -> None:
    nik, kelurahan = people[15]
    fake = tmp_path / "ktp.pdf"
    fake.write_bytes(b"MZ\x90\x00" + b"\x00" * 500)  # a program behind a PDF name
    with _page_at(browser, 390, False) as page:
        page.goto(f"{url}/warga/masuk")
        page.fill("#nik-lain", nik)
        page.click("#masuk-nik")
        page.wait_for_selector("h1:has-text('Permohonan saya')")
        page.goto(f"{url}/warga/ajukan?jenis=IUMK")
        page.select_option("#kelurahan", kelurahan)
        page.fill("#alamat", "Jl. Kenanga 7")
        page.set_input_files("input[name='berkas.KTP_PEMOHON']", str(fake))
        page.click("text=Kirim permohonan")
        alert = page.inner_text("#masalah")
        assert "Isi berkas KTP pemohon bukan PDF" in alert and "Dokumen wajib belum dilampirkan" in alert
        assert page.input_value("#alamat") == "Jl. Kenanga 7" and page.input_value("#kelurahan") == kelurahan
        _screenshot(page, "390-nojs-galat")
