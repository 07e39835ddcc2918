"""Citizens apply online (issue 24), through the hub, against the real sample services
(separate programs, their own databases and file store): submit with documents, the
officer marks the file incomplete, the citizen completes it, the officer approves, the
citizen sees the decision; documents reach officers through personal, expiring links,
each download on the ledger and in the citizen's access log.

This module runs its own sample services: it writes applications, which the shared
stack's other tests count."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from hub.demo import DemoSources
from hub.identity import development_issuer
from hub.app import create_app
from hub.settings import RateLimitSettings, Settings
from tests.support.intake import (
    COMPLETE,
    EXE,
    IUMK_DOCUMENTS,
    PDF,
    PNG,
    SUBMIT,
    error_of,
    graphql,
    multipart,
    residents,
    set_faults,
    source_applications,
    stored_files,
)
from tests.hub.stack import demo_stack

OFFICER_QUERY = """query One($number: String!) { application(number: $number) {
  number status documents { id requirement fileName mediaType size sha256 downloadUrl downloadExpiresAt }
} }"""
MY_CASES = """{ me { applications { number status statusLabel { id en } dueDate finishedAt
  history { status } requirements { code fulfilled requested } } complaints { number } } }"""
STEPS = ["FILE_CHECK", "DATA_ENTRY", "RECOMMENDATION", "DECISION", "DRAFT_DECREE", "INITIALLED", "SIGNED", "ISSUED"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSources]:
    """This module's own sample services (conftest's `settings` and `client` use them)."""
    with demo_stack(tmp_path_factory.mktemp("intake"), residents=200) as running:
        yield running


@pytest.fixture
def own_stack(stack: DemoSources) -> DemoSources:
    return stack


@pytest.fixture(scope="module")
def people(stack: DemoSources) -> list[tuple[str, str]]:
    return residents(stack.data_dir, 12)


@pytest.fixture
def token(settings: Settings):  # type: ignore[no-untyped-def]
    issuer = development_issuer(settings)

    def make(role: str, *, sub: str | None = None, **claims: str) -> dict[str, str]:
        subject = sub or f"t-{role}-{claims.get('nik', '')}"
        return {"Authorization": f"Bearer {issuer.issue(subject=subject, roles=[role], department='test', **claims)}"}

    return make


def code_of(response: Any) -> str:
    return response.json()["errors"][0]["extensions"]["code"]


def citizen(token: Any, nik: str) -> dict[str, str]:
    return {**token("citizen", nik=nik), "X-Access-Purpose": "self-service"}


def officer(token: Any, number: str, *, sub: str = "petugas-1") -> dict[str, str]:
    return {**token("licensing_officer", sub=sub), "X-Access-Purpose": "permit-verification", "X-Access-Case": number}


def submit(client: TestClient, headers: dict[str, str], kelurahan: str, documents: dict[str, tuple[str, bytes]],
           *, key: str, permit: str = "IUMK") -> Any:
    variables = {"input": {"permitType": permit, "kelurahan": kelurahan, "businessAddress": "Jl. Delima 3"},
                 "key": key}
    return multipart(client, SUBMIT, variables, documents, headers)


def move(client: TestClient, headers: dict[str, str], number: str, status: str) -> dict[str, Any]:
    body = graphql(client, """mutation M($n: String!, $s: ApplicationStatus!) {
      updateApplicationStatus(number: $n, status: $s) { status } }""", headers, n=number, s=status)
    assert "errors" not in body, body["errors"]
    return body["data"]["updateApplicationStatus"]


# -- the whole path --------------------------------------------------------------------


def test_submit_mark_incomplete_complete_approve_and_the_citizen_sees_the_decision(
    client: TestClient, token: Any, people: list[tuple[str, str]], own_stack: DemoSources
) -> None:
    nik, kelurahan = people[0]
    me = citizen(token, nik)
    types = graphql(client, "{ permitTypes { code requirements { code mandatory acceptedTypes maxBytes } } }", me)
    iumk = next(t for t in types["data"]["permitTypes"] if t["code"] == "IUMK")
    assert {r["code"] for r in iumk["requirements"] if r["mandatory"]} == set(IUMK_DOCUMENTS)

    answer = submit(client, me, kelurahan, IUMK_DOCUMENTS, key="apply-1")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body["errors"]
    created = body["data"]["submitApplication"]
    number = created["number"]
    assert created["status"] == "SUBMITTED" and created["applicantNik"] == nik
    again = submit(client, me, kelurahan, IUMK_DOCUMENTS, key="apply-1").json()["data"]["submitApplication"]
    assert again["number"] == number
    assert len(source_applications(own_stack.url_of("licensing"), own_stack.api_key, nik)) == 1

    desk = officer(token, number)
    move(client, desk, number, "FILE_CHECK")
    marked = graphql(client, """mutation M($n: String!) { markApplicationIncomplete(number: $n,
        missing: ["KARTU_KELUARGA"], note: "KK tidak terbaca") { status requirements { code fulfilled requested } } }""",
                     desk, n=number)
    assert "errors" not in marked, marked["errors"]
    assert marked["data"]["markApplicationIncomplete"]["status"] == "FILE_INCOMPLETE"

    mine = graphql(client, MY_CASES, me)["data"]["me"]["applications"]
    incomplete = next(a for a in mine if a["number"] == number)
    assert incomplete["status"] == "FILE_INCOMPLETE"
    assert incomplete["statusLabel"] == {"id": "Berkas tidak lengkap", "en": "File incomplete"}
    assert [r["code"] for r in incomplete["requirements"] if r["requested"]] == ["KARTU_KELUARGA"]

    completed = multipart(client, COMPLETE, {"number": number, "key": "kk-1"},
                          {"KARTU_KELUARGA": ("kk-baru.pdf", PDF + b"baru")}, me)
    assert completed.status_code == 200 and "errors" not in completed.json(), completed.text
    assert completed.json()["data"]["completeApplication"]["status"] == "SUBMITTED"

    for status in STEPS:
        move(client, desk, number, status)
    decided = next(a for a in graphql(client, MY_CASES, me)["data"]["me"]["applications"] if a["number"] == number)
    assert decided["status"] == "ISSUED" and decided["statusLabel"]["id"] == "Izin terbit"
    assert decided["finishedAt"] is not None and decided["dueDate"] is not None
    assert [h["status"] for h in decided["history"]] == [
        "SUBMITTED", "FILE_CHECK", "FILE_INCOMPLETE", "SUBMITTED", *STEPS]


def test_officer_downloads_through_a_personal_link_and_the_citizen_sees_it(
    client: TestClient, token: Any, people: list[tuple[str, str]]
) -> None:
    nik, kelurahan = people[1]
    me = citizen(token, nik)
    number = submit(client, me, kelurahan, IUMK_DOCUMENTS, key="dl-1").json()["data"]["submitApplication"]["number"]
    desk = officer(token, number)
    docs = graphql(client, OFFICER_QUERY, desk, number=number)["data"]["application"]["documents"]
    photo = next(d for d in docs if d["requirement"] == "PAS_FOTO_3X4")
    assert photo["mediaType"] == "image/png" and photo["size"] == len(PNG) and photo["fileName"] == "foto.png"
    url = photo["downloadUrl"]
    assert url.startswith("/documents/") and photo["downloadExpiresAt"]

    got = client.get(url, headers=token("licensing_officer", sub="petugas-1"))
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png" and got.headers["cache-control"] == "no-store"

    log = graphql(client, "{ myAccessLog(first: 50) { purpose case recordType fields action roles } }", me)
    downloads = [e for e in log["data"]["myAccessLog"] if e["fields"] == ["documents"] and e["case"] == number]
    assert downloads and all(e["purpose"] == "permit-verification" for e in downloads)
    assert "licensing_officer" in downloads[0]["roles"]

    # bound to the officer: anyone else, or nobody, or an altered link gets the same refusal
    for headers in (token("licensing_officer", sub="petugas-2"), {}, citizen(token, nik)):
        refused = client.get(url, headers=headers)
        assert refused.status_code == 403 and code_of(refused) == "FORBIDDEN", refused.text
    # the link's purpose is checked again when it is used: the same officer, now held to another purpose
    held = client.get(url, headers=token("licensing_officer", sub="petugas-1", purpose="population-service"))
    assert held.status_code == 403 and code_of(held) == "FORBIDDEN", held.text
    altered = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    assert client.get(altered, headers=token("licensing_officer", sub="petugas-1")).status_code == 403
    # the population officer's schema has no documents at all
    population = graphql(client, OFFICER_QUERY, {**token("population_officer"), "X-Access-Purpose": "population-service"},
                         number=number)
    assert error_of(population)["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_a_citizen_reaches_only_their_own_application(
    client: TestClient, token: Any, people: list[tuple[str, str]]
) -> None:
    (owner, kelurahan), (other, _) = people[2], people[3]
    number = submit(client, citizen(token, owner), kelurahan, IUMK_DOCUMENTS, key="own-1").json()[
        "data"]["submitApplication"]["number"]
    intruder = citizen(token, other)
    theirs = multipart(client, COMPLETE, {"number": number, "key": "x"}, {"KTP_PEMOHON": ("k.pdf", PDF)}, intruder)
    nowhere = multipart(client, COMPLETE, {"number": "503/DPMPTSP/2099/000001-ZZZZ", "key": "x"},
                        {"KTP_PEMOHON": ("k.pdf", PDF)}, intruder)
    assert error_of(theirs.json())["message"] == error_of(nowhere.json())["message"]
    assert error_of(theirs.json())["extensions"]["code"] == "NOT_FOUND"
    assert owner not in theirs.text and number not in error_of(theirs.json())["message"]
    assert graphql(client, MY_CASES, intruder)["data"]["me"]["applications"] == []
    seen = graphql(client, OFFICER_QUERY.replace("documents { id requirement fileName mediaType size sha256 "
                                                  "downloadUrl downloadExpiresAt }", "documents { id }"),
                   intruder, number=number)
    assert seen["data"]["application"] is None
    # the same idempotency key as the owner's creates the intruder's own application, never answers the owner's
    own = submit(client, intruder, kelurahan, IUMK_DOCUMENTS, key="own-1").json()["data"]["submitApplication"]
    assert own["number"] != number and own["applicantNik"] == other


# -- bad input, nothing lost -----------------------------------------------------------


@pytest.mark.parametrize(
    ("documents", "requirement", "reason"),
    [
        pytest.param({**IUMK_DOCUMENTS, "KTP_PEMOHON": ("ktp.pdf", EXE)}, "KTP_PEMOHON", "WRONG_TYPE", id="exe-as-pdf"),
        pytest.param({**IUMK_DOCUMENTS, "KTP_PEMOHON": ("ktp.pdf", b"")}, "KTP_PEMOHON", "EMPTY", id="zero-bytes"),
        pytest.param({**IUMK_DOCUMENTS, "PAS_FOTO_3X4": ("f.png", PNG + b"0" * (2 * 1024 * 1024))}, "PAS_FOTO_3X4",
                     "TOO_LARGE", id="oversized"),
        pytest.param({k: v for k, v in IUMK_DOCUMENTS.items() if k != "KARTU_KELUARGA"}, "KARTU_KELUARGA",
                     "MISSING", id="mandatory-missing"),
        pytest.param({**IUMK_DOCUMENTS, "IJAZAH": ("i.pdf", PDF)}, "IJAZAH", "UNKNOWN_REQUIREMENT", id="unknown"),
    ],
)
def test_bad_documents_are_refused_in_both_languages_and_nothing_reaches_the_source(
    client: TestClient, token: Any, people: list[tuple[str, str]], own_stack: DemoSources,
    documents: dict[str, tuple[str, bytes]], requirement: str, reason: str,
) -> None:
    nik, kelurahan = people[4]
    before = stored_files(own_stack.data_dir)
    answer = submit(client, citizen(token, nik), kelurahan, documents, key=f"bad-{reason}")
    assert answer.status_code == 200, answer.text
    error = error_of(answer.json())
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["reason"] == "DOCUMENTS_INVALID"
    problem = next(p for p in error["extensions"]["problems"] if p["requirement"] == requirement)
    assert problem["reason"] == reason and problem["message"]["id"] and problem["message"]["en"]
    assert problem["message"]["id"] != problem["message"]["en"]
    if reason == "MISSING":
        assert problem["message"]["id"] == "Dokumen wajib belum dilampirkan: Kartu Keluarga"
        assert problem["message"]["en"] == "Required document missing: Kartu Keluarga"
    assert source_applications(own_stack.url_of("licensing"), own_stack.api_key, nik) == []
    assert stored_files(own_stack.data_dir) == before


def test_unknown_permit_type_and_a_non_citizen_are_refused(
    client: TestClient, token: Any, people: list[tuple[str, str]]
) -> None:
    nik, kelurahan = people[4]
    unknown = submit(client, citizen(token, nik), kelurahan, IUMK_DOCUMENTS, key="u-1", permit="NOPE")
    error = error_of(unknown.json())
    assert error["extensions"]["reason"] == "UNKNOWN_PERMIT_TYPE"
    assert error["extensions"]["problems"][0]["message"] == {"id": "Jenis izin tidak dikenal: NOPE",
                                                             "en": "Unknown permit type: NOPE"}
    officer_try = submit(client, token("licensing_officer"), kelurahan, IUMK_DOCUMENTS, key="u-2")
    assert error_of(officer_try.json())["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"  # not in its schema


def test_the_same_key_with_a_different_body_is_refused(
    client: TestClient, token: Any, people: list[tuple[str, str]], own_stack: DemoSources
) -> None:
    nik, kelurahan = people[5]
    me = citizen(token, nik)
    first = submit(client, me, kelurahan, IUMK_DOCUMENTS, key="same-key").json()["data"]["submitApplication"]
    changed = {**IUMK_DOCUMENTS, "KTP_PEMOHON": ("ktp.pdf", PDF + b"lain")}
    error = error_of(submit(client, me, kelurahan, changed, key="same-key").json())
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["reason"] == "IDEMPOTENCY_KEY_REUSED"
    records = source_applications(own_stack.url_of("licensing"), own_stack.api_key, nik)
    assert [r["no_permohonan"] for r in records] == [first["number"]]


def _raw_multipart(documents: int, *, cut: int | None = None) -> tuple[bytes, str]:
    boundary = "simpulbatas"
    docs = [{"requirement": "KTP_PEMOHON", "file": None} for _ in range(documents)]
    import json

    parts = [
        ("operations", json.dumps({"query": SUBMIT, "variables": {
            "input": {"permitType": "IUMK", "kelurahan": "1471081001"}, "key": "raw", "docs": docs}})),
        ("map", json.dumps({str(i): [f"variables.docs.{i}.file"] for i in range(documents)})),
    ]
    body = b""
    for name, value in parts:
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    for i in range(documents):
        body += (f'--{boundary}\r\nContent-Disposition: form-data; name="{i}"; filename="k{i}.pdf"\r\n'
                 "Content-Type: application/pdf\r\n\r\n").encode() + PDF + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    if cut is not None:
        body = body[:cut]
    return body, f"multipart/form-data; boundary={boundary}"


def test_a_truncated_body_too_many_files_and_uploads_without_a_token_are_refused(
    client: TestClient, token: Any, people: list[tuple[str, str]], own_stack: DemoSources
) -> None:
    nik, _ = people[6]
    me = citizen(token, nik)
    whole, content_type = _raw_multipart(2)
    truncated = client.post("/graphql", content=whole[: len(whole) - len(PDF) // 2 - 40],
                            headers={**me, "Content-Type": content_type})
    assert truncated.status_code == 400 and code_of(truncated) == "UPLOAD_TRUNCATED", truncated.text
    many, content_type = _raw_multipart(21)
    crowded = client.post("/graphql", content=many, headers={**me, "Content-Type": content_type})
    assert crowded.status_code == 400 and code_of(crowded) == "UPLOAD_INVALID", crowded.text
    anonymous = client.post("/graphql", content=whole, headers={"Content-Type": content_type})
    assert anonymous.status_code == 401 and code_of(anonymous) == "UPLOAD_NEEDS_TOKEN"
    assert source_applications(own_stack.url_of("licensing"), own_stack.api_key, nik) == []


def test_the_source_failing_halfway_leaves_no_application_and_the_retry_creates_one(
    client: TestClient, token: Any, people: list[tuple[str, str]], own_stack: DemoSources
) -> None:
    nik, kelurahan = people[7]
    me = citizen(token, nik)
    url, api_key = own_stack.url_of("licensing"), own_stack.api_key
    before = stored_files(own_stack.data_dir)
    set_faults(url, api_key, upload_fail_after=2)  # the third of four documents fails, every attempt
    try:
        failed = submit(client, me, kelurahan, IUMK_DOCUMENTS, key="fault-1")
        error = error_of(failed.json())
        assert error["extensions"]["code"] == "SOURCE_UNAVAILABLE" and error["extensions"]["source"] == "licensing"
        assert source_applications(url, api_key, nik) == []
        assert stored_files(own_stack.data_dir) == before  # no orphan file either
    finally:
        set_faults(url, api_key, upload_fail_after=None)
    retried = submit(client, me, kelurahan, IUMK_DOCUMENTS, key="fault-1").json()["data"]["submitApplication"]
    repeated = submit(client, me, kelurahan, IUMK_DOCUMENTS, key="fault-1").json()["data"]["submitApplication"]
    assert retried["number"] == repeated["number"]
    assert [r["no_permohonan"] for r in source_applications(url, api_key, nik)] == [retried["number"]]
    assert len(stored_files(own_stack.data_dir) - before) == 4
    listing = graphql(client, OFFICER_QUERY, officer(token, retried["number"]), number=retried["number"])
    assert len(listing["data"]["application"]["documents"]) == 4
    assert quote(retried["number"], safe="")  # a real number, usable in the source's paths


def test_downloads_count_against_the_callers_rate_limit(
    settings: Settings, token: Any, people: list[tuple[str, str]]
) -> None:
    # a link lives for minutes: without a limit it fetched the document (and wrote a ledger entry) at will
    limited = settings.model_copy(update={"rate_limits": RateLimitSettings(per_client={"default": 4})})
    with TestClient(create_app(limited)) as client:
        nik, kelurahan = people[10]
        number = submit(client, citizen(token, nik), kelurahan, IUMK_DOCUMENTS,
                        key="dl-limit").json()["data"]["submitApplication"]["number"]
        docs = graphql(client, OFFICER_QUERY, officer(token, number), number=number)["data"]["application"]["documents"]
        me = token("licensing_officer", sub="petugas-1")
        statuses = [client.get(docs[0]["downloadUrl"], headers=me).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]  # the query was the first of its four requests
        refused = client.get(docs[0]["downloadUrl"], headers=me)
        assert code_of(refused) == "RATE_LIMITED" and refused.headers["retry-after"]
