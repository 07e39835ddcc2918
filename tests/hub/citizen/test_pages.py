"""The citizen page as a browser without JavaScript uses it (plain form posts): apply with
documents, the receipt, the same form sent twice, errors shown in Bahasa Indonesia with
the values kept, the missing document sent from "Permohonan saya", the decision; a
resident reaches only their own applications; every form needs its token (CSRF)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.citizen import form_value, sign_in
from tests.support.intake import EXE, IUMK_DOCUMENTS, PDF, PNG, source_applications

STEPS = ["DECISION", "DRAFT_DECREE", "INITIALLED", "SIGNED", "ISSUED"]
MARK = """mutation M($n: String!) { markApplicationIncomplete(number: $n, missing: ["KARTU_KELUARGA"],
  note: "KK tidak terbaca") { status } }"""
MOVE = """mutation M($n: String!, $s: ApplicationStatus!) { updateApplicationStatus(number: $n, status: $s) { status } }"""


@pytest.fixture
def resident(url: str, people: list[tuple[str, str]], request: pytest.FixtureRequest) -> Iterator[Any]:
    """`resident(i)`: a signed-in browser for the i-th sample resident."""
    clients: list[httpx.Client] = []

    def make(i: int) -> httpx.Client:
        client = httpx.Client(base_url=url, timeout=30)
        clients.append(client)
        assert sign_in(client, people[i][0]).status_code == 303
        return client

    yield make
    for client in clients:
        client.close()


def apply(client: httpx.Client, kelurahan: str, documents: dict[str, tuple[str, bytes]], *,
          key: str | None = None, csrf: str | None = None, address: str = "Jl. Delima 3") -> httpx.Response:
    page = client.get("/warga/ajukan", params={"jenis": "IUMK"})
    assert page.status_code == 200
    data = {"csrf": csrf if csrf is not None else form_value(page.text, "csrf"),
            "kunci": key or form_value(page.text, "kunci"), "jenis": "IUMK", "kelurahan": kelurahan,
            "alamat": address}
    files = [(f"berkas.{code}", (name, content, "application/pdf")) for code, (name, content) in documents.items()]
    return client.post("/warga/ajukan", data=data, files=files)


def number_of(answer: httpx.Response) -> str:
    assert answer.status_code == 303, answer.text
    return parse_qs(urlsplit(answer.headers["location"]).query)["nomor"][0]


def test_apply_see_the_receipt_complete_the_missing_document_and_see_the_decision(
    resident: Any, people: list[tuple[str, str]], officer: Any, stack: Any
) -> None:
    client = resident(3)
    nik, kelurahan = people[3]
    form = client.get("/warga/ajukan", params={"jenis": "IUMK"})
    assert "Kartu Keluarga" in form.text and "(wajib)" in form.text and 'enctype="multipart/form-data"' in form.text
    assert "<script" not in form.text
    answer = apply(client, kelurahan, IUMK_DOCUMENTS, key="kunci-1")
    number = number_of(answer)
    receipt = client.get(answer.headers["location"])
    assert "Tanda terima" in receipt.text and number in receipt.text and 'id="status">Diajukan<' in receipt.text
    # the same form again (a double click, or a retry after a dropped connection): the same application
    assert number_of(apply(client, kelurahan, IUMK_DOCUMENTS, key="kunci-1")) == number
    assert [a["no_permohonan"] for a in source_applications(stack.url_of("licensing"), stack.api_key, nik)] == [number]
    assert number in client.get("/warga/").text

    officer(MOVE, number, n=number, s="FILE_CHECK")
    officer(MARK, number, n=number)
    waiting = client.get("/warga/permohonan", params={"nomor": number})
    assert "Berkas tidak lengkap" in waiting.text and "KK tidak terbaca" in waiting.text
    assert 'name="berkas.KARTU_KELUARGA"' in waiting.text and "PDF, JPEG, PNG, paling besar 5 MB" in waiting.text
    wrong = client.post("/warga/lengkapi", data={"csrf": form_value(waiting.text, "csrf"), "nomor": number,
                                                 "kunci": form_value(waiting.text, "kunci")},
                        files=[("berkas.KARTU_KELUARGA", ("kk.pdf", EXE, "application/pdf"))])
    assert wrong.status_code == 400 and "Isi berkas Kartu Keluarga bukan PDF" in wrong.text
    sent = client.post("/warga/lengkapi", data={"csrf": form_value(waiting.text, "csrf"), "nomor": number,
                                                "kunci": form_value(waiting.text, "kunci")},
                       files=[("berkas.KARTU_KELUARGA", ("kk-baru.pdf", PDF + b"baru", "application/pdf"))])
    assert sent.status_code == 303, sent.text
    after = client.get(sent.headers["location"])
    assert "Berkas terkirim" in after.text and 'id="lengkapi"' not in after.text
    assert 'id="status">Diajukan<' in after.text

    for status in ("FILE_CHECK", "DATA_ENTRY", "RECOMMENDATION", *STEPS):
        officer(MOVE, number, n=number, s=status)
    decided = client.get("/warga/permohonan", params={"nomor": number})
    assert 'id="status">Izin terbit<' in decided.text and "Selesai:" in decided.text


@pytest.mark.parametrize(("documents", "message"), [
    pytest.param({**IUMK_DOCUMENTS, "KTP_PEMOHON": ("ktp.pdf", EXE)}, "bukan PDF", id="wrong-type"),
    pytest.param({**IUMK_DOCUMENTS, "PAS_FOTO_3X4": ("f.png", PNG + b"0" * (2 * 1024 * 1024))}, "lebih dari",
                 id="too-large"),
    pytest.param({k: v for k, v in IUMK_DOCUMENTS.items() if k != "KARTU_KELUARGA"},
                 "Dokumen wajib belum dilampirkan: Kartu Keluarga", id="missing"),
    pytest.param({**IUMK_DOCUMENTS, "KTP_PEMOHON": ("ktp.pdf", b"")}, "Berkas KTP pemohon kosong (0 byte)",
                 id="zero-bytes"),
    pytest.param({**IUMK_DOCUMENTS, "KTP_PEMOHON": ("", b"")}, "Dokumen wajib belum dilampirkan: KTP pemohon",
                 id="input-left-empty"),
])
def test_bad_documents_are_shown_in_bahasa_indonesia_with_the_values_kept(
    resident: Any, people: list[tuple[str, str]], stack: Any, documents: dict[str, tuple[str, bytes]], message: str
) -> None:
    client = resident(4)
    nik, kelurahan = people[4]
    answer = apply(client, kelurahan, documents, key="salah-1", address="Jl. Sudirman 12")
    assert answer.status_code == 400
    alert = answer.text.split('id="masalah"')[1].split("</div>")[0]
    assert message in alert and "kode DOCUMENTS_INVALID" in alert
    assert 'value="Jl. Sudirman 12"' in answer.text and f'value="{kelurahan}" selected' in answer.text
    assert form_value(answer.text, "kunci") == "salah-1"  # a retry stays the same application
    assert source_applications(stack.url_of("licensing"), stack.api_key, nik) == []


def test_a_resident_sees_only_their_own_applications(resident: Any, people: list[tuple[str, str]]) -> None:
    owner, intruder = resident(5), resident(6)
    number = number_of(apply(owner, people[5][1], IUMK_DOCUMENTS))
    theirs = intruder.get("/warga/permohonan", params={"nomor": number})
    nowhere = intruder.get("/warga/permohonan", params={"nomor": "503/DPMPTSP/2099/000001-ZZZZ"})
    assert theirs.status_code == nowhere.status_code == 404
    assert theirs.text == nowhere.text.replace("503/DPMPTSP/2099/000001-ZZZZ", number)
    assert number not in intruder.get("/warga/").text and people[5][0] not in theirs.text
    page = intruder.get("/warga/").text
    pushed = intruder.post("/warga/lengkapi", data={"csrf": form_value(page, "csrf"), "nomor": number, "kunci": "k"},
                           files=[("berkas.KARTU_KELUARGA", ("kk.pdf", PDF, "application/pdf"))])
    assert pushed.status_code == 404 and 'id="kode">NOT_FOUND<' in pushed.text


def test_every_form_needs_the_session_token(resident: Any, url: str, people: list[tuple[str, str]],
                                            stack: Any) -> None:
    client, other = resident(7), resident(8)
    nik, kelurahan = people[7]
    for csrf in ("", "forged", form_value(other.get("/warga/").text, "csrf")):
        refused = apply(client, kelurahan, IUMK_DOCUMENTS, csrf=csrf)
        assert refused.status_code == 403 and 'id="kode">CSRF_INVALID<' in refused.text
    assert source_applications(stack.url_of("licensing"), stack.api_key, nik) == []
    assert client.post("/warga/keluar", data={"csrf": "forged"}).status_code == 403
    assert "Keluar" in client.get("/warga/").text  # still signed in
    with httpx.Client(base_url=url) as stranger:  # no session at all
        answer = stranger.post("/warga/ajukan", data={"csrf": "x"}, files=[("berkas.KTP_PEMOHON", ("k.pdf", PDF))])
        assert answer.status_code == 401 and "SESSION_EXPIRED" in answer.text
    out = client.post("/warga/keluar", data={"csrf": form_value(client.get("/warga/").text, "csrf")})
    assert out.status_code == 303 and "Keluar" not in client.get("/warga/").text
    assert client.get("/warga/ajukan").status_code == 303  # signed out: to the sign-in


def test_a_tampered_session_cookie_is_no_session(resident: Any) -> None:
    client = resident(9)
    value = client.cookies["simpul_warga"]
    client.cookies.clear()
    client.cookies.set("simpul_warga", value[:-2] + ("AA" if not value.endswith("AA") else "BB"), path="/warga")
    assert "Keluar" not in client.get("/warga/").text


def test_the_page_is_small_and_gzipped(resident: Any) -> None:
    client = resident(10)
    page = client.get("/warga/ajukan", params={"jenis": "IUMK"}, headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip"
    assert int(page.headers["content-length"]) < 6 * 1024
    assert page.headers["cache-control"] == "no-store" and "frame-ancestors 'none'" in page.headers[
        "content-security-policy"]


def test_the_page_counts_against_the_page_limit_of_its_address(stack: Any, tmp_path: Any,
                                                                people: list[tuple[str, str]]) -> None:
    from hub.settings import LimitSettings, PublicLimitSettings, RateLimitSettings
    from tests.support.citizen import citizen_hub

    limits = RateLimitSettings(public=PublicLimitSettings(page=LimitSettings(requests=4, window_seconds=600)))
    with citizen_hub(stack, tmp_path, rate_limits=limits) as (url, _), httpx.Client(base_url=url) as client:
        answers = [client.get("/warga/").status_code for _ in range(6)]
        assert answers[:4] == [200] * 4 and answers[4:] == [429, 429]
        assert client.post("/warga/ajukan", data={"csrf": "x"}).status_code == 429


def test_what_the_page_reads_is_on_the_access_ledger_like_graphql(resident: Any, hub: Any,
                                                                   people: list[tuple[str, str]]) -> None:
    from hub.identity import development_issuer

    url, settings = hub
    nik, kelurahan = people[16]
    client = resident(16)
    number = number_of(apply(client, kelurahan, IUMK_DOCUMENTS))
    assert client.get("/warga/permohonan", params={"nomor": number}).status_code == 200
    token = development_issuer(settings).issue(subject="t-citizen", roles=["citizen"], department="test", nik=nik)
    log = httpx.post(f"{url}/graphql", json={"query": "{ myAccessLog(first: 100) { purpose case recordType roles } }"},
                     headers={"Authorization": f"Bearer {token}", "X-Access-Purpose": "self-service"}).json()
    entries = [e for e in log["data"]["myAccessLog"] if e["recordType"] == "Application"]
    assert entries and all(e["purpose"] == "self-service" and e["roles"] == ["citizen"] for e in entries)
