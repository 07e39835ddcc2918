"""The sample licensing service (demo/licensing) against demo/API.md."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from demo.licensing.app import create_app
from demo.licensing.storage import add_applications, load
from demo.licensing.workflow import FINAL_STATUSES, STATUSES, TRANSITIONS
from tests.support.sample_service import SampleService
from tests.support.pg_database import postgres_database

PERMIT_TYPES = [
    {"kode": "PBG", "nama": "Persetujuan Bangunan Gedung", "sla_hari": 20},
    {"kode": "SIP", "nama": "Surat Izin Praktik", "sla_hari": 10},
    {"kode": "SIUP", "nama": "Surat Izin Usaha Perdagangan", "sla_hari": 5},
]
KELURAHAN = ["1471081001", "1471081005", "1471151002"]
STATUS_CYCLE = ["DIAJUKAN", "PEMERIKSAAN_BERKAS", "ENTRY_DATA", "TERBIT"]
NAMES = ["Siti Rahmawati", "Budi Santoso", "Dewi Lestari", "Ahmad Fauzi", "Rina Marlina"]
START = datetime(2025, 1, 6, 8, 0)
API_KEY = "kunci-uji"
KEY_HEADER = {"X-API-Key": API_KEY}


def _iso(moment: datetime) -> str:
    return moment.isoformat() + "+07:00"


def number(i: int) -> str:
    return f"503/DPMPTSP/2025/{i:06d}-{(i * 7919) % 10000:04X}"


def application(i: int, *, received: datetime | None = None) -> dict[str, Any]:
    received = received or START + timedelta(days=i, hours=i % 5)
    if i == 11:  # same received time as #10: the number breaks the tie
        received = START + timedelta(days=10, hours=0)
    status = STATUS_CYCLE[i % len(STATUS_CYCLE)]
    company = i % 5 == 0
    history = [{"status": "DIAJUKAN", "waktu": _iso(received), "catatan": None, "petugas": "loket"}]
    if status != "DIAJUKAN":
        history.append(
            {"status": status, "waktu": _iso(received + timedelta(days=2)), "catatan": "ok", "petugas": "p1"}
        )
    permit = PERMIT_TYPES[i % len(PERMIT_TYPES)]
    return {
        "no_permohonan": number(i),
        "jenis_pemohon": "BADAN_USAHA" if company else "PERORANGAN",
        "nik_pemohon": f"1471084107{900000 + i % 6:06d}",
        "nama_pemohon": NAMES[i % len(NAMES)],
        "nama_perusahaan": f"PT Sinar Delima {i}" if company else None,
        "kode_jenis_izin": permit["kode"],
        "nama_jenis_izin": permit["nama"],
        "sla_hari": permit["sla_hari"],
        "jenis_permohonan": "BARU",
        "tgl_pengajuan": _iso(received),
        "tgl_berkas_lengkap": _iso(received + timedelta(days=1)) if status != "DIAJUKAN" else None,
        "kode_kelurahan": KELURAHAN[i % len(KELURAHAN)],
        "alamat_usaha": f"Jl. Garuda Sakti Km {i}",
        "status": status,
        "persyaratan": [
            {"nama": "KTP pemohon", "terpenuhi": True},
            {"nama": "Gambar teknis", "terpenuhi": i % 2 == 0},
        ],
        "riwayat": history,
        "tgl_selesai": _iso(received + timedelta(days=2)) if status == "TERBIT" else None,
    }


DATA = [application(i) for i in range(36)]


def newest_first(records: list[dict[str, Any]]) -> list[str]:
    ordered = sorted(records, key=lambda r: (r["tgl_pengajuan"], r["no_permohonan"]), reverse=True)
    return [r["no_permohonan"] for r in ordered]


@pytest.fixture(scope="module")
def sample_service() -> SampleService:
    def fill(url: str) -> int:
        count = load(url, permit_types=PERMIT_TYPES, applications=DATA)
        assert count == len(DATA)
        return count

    return SampleService("perizinan", fill, create_app, API_KEY)


async def cari(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/permohonan/cari", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def path(no: str) -> str:
    return f"/api/v1/permohonan/{quote(no, safe='')}"


# -- API key, health -------------------------------------------------------------------


async def test_requests_without_the_right_api_key_get_401_json(db_url: str, asgi_client: Any) -> None:
    async with asgi_client(create_app(db_url=db_url, api_key=API_KEY)) as bare:
        for headers in ({}, {"X-API-Key": ""}, {"X-API-Key": "salah"}):
            response = await bare.post("/api/v1/permohonan/cari", json={}, headers=headers)
            assert response.status_code == 401
            assert response.json()["error"]["kode"] == "API_KEY_INVALID"
        assert (await bare.get("/_admin/stats")).status_code == 401
        health = await bare.get("/health")
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        assert (await bare.get("/api/v1/jenis-izin", headers=KEY_HEADER)).status_code == 200


# -- search ------------------------------------------------------------------------------


async def test_search_returns_newest_first_with_requirements_and_history(
    client: httpx.AsyncClient,
) -> None:
    page = await cari(client, limit=1000)
    assert [r["no_permohonan"] for r in page["data"]] == newest_first(DATA)
    assert page["next_cursor"] is None and page["total"] is None
    record = next(r for r in page["data"] if r["no_permohonan"] == number(3))
    expected = DATA[3]
    assert [{"nama": q["nama"], "terpenuhi": q["terpenuhi"]} for q in record["persyaratan"]] == expected["persyaratan"]
    assert [q["kode"] for q in record["persyaratan"]] == ["KTP_PEMOHON", "GAMBAR_TEKNIS"]  # derived from the name
    assert [step["status"] for step in record["riwayat"]] == ["DIAJUKAN", "TERBIT"]
    assert record["tgl_pengajuan"] == expected["tgl_pengajuan"]
    assert record["nama_jenis_izin"] == "Persetujuan Bangunan Gedung" and record["sla_hari"] == 20
    assert record["tgl_selesai"] == expected["tgl_selesai"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param({"no_permohonan": [number(1), number(2), "tidak-ada"]}, lambda r: r["no_permohonan"] in {number(1), number(2)}, id="no_permohonan"),
        pytest.param({"nik_pemohon": ["1471084107900002"]}, lambda r: r["nik_pemohon"] == "1471084107900002", id="nik_pemohon"),
        pytest.param({"kode_kelurahan": ["1471081005", "1471151002"]}, lambda r: r["kode_kelurahan"] != "1471081001", id="kode_kelurahan"),
        pytest.param({"status": ["TERBIT", "ENTRY_DATA"]}, lambda r: r["status"] in {"TERBIT", "ENTRY_DATA"}, id="status"),
        pytest.param({"kode_jenis_izin": ["SIP"]}, lambda r: r["kode_jenis_izin"] == "SIP", id="kode_jenis_izin"),
        pytest.param({"nama": "siti"}, lambda r: "Siti" in r["nama_pemohon"], id="nama-applicant"),
        pytest.param({"nama": "SINAR delima 1"}, lambda r: (r["nama_perusahaan"] or "").startswith("PT Sinar Delima 1"), id="nama-company"),
        pytest.param({"dari": "2025-01-10", "sampai": "2025-01-12"}, lambda r: "2025-01-10" <= r["tgl_pengajuan"][:10] <= "2025-01-12", id="dari-sampai-inclusive"),
        pytest.param({"sampai": "2025-01-07"}, lambda r: r["tgl_pengajuan"][:10] <= "2025-01-07", id="sampai"),
        pytest.param({"status": ["TERBIT"], "kode_kelurahan": ["1471081001"]}, lambda r: r["status"] == "TERBIT" and r["kode_kelurahan"] == "1471081001", id="combined"),
        pytest.param({"nik_pemohon": []}, lambda r: False, id="empty-list-matches-nothing"),
    ],
)
async def test_every_filter_selects_exactly_the_matching_applications(
    client: httpx.AsyncClient, body: dict[str, Any], expected: Any
) -> None:
    page = await cari(client, limit=1000, include_total=True, **body)
    wanted = newest_first([r for r in DATA if expected(r)])
    assert [r["no_permohonan"] for r in page["data"]] == wanted
    assert page["total"] == len(wanted)


async def test_pages_are_stable_when_applications_arrive_between_pages(
    client: httpx.AsyncClient, db_url: str
) -> None:
    first = await cari(client, limit=7, include_total=True)
    assert first["total"] == len(DATA)
    newer = application(100, received=START + timedelta(days=400))
    same_time_as_last_seen = application(101, received=datetime.fromisoformat(first["data"][-1]["tgl_pengajuan"][:19]))
    add_applications(db_url, [newer, same_time_as_last_seen])
    seen = [r["no_permohonan"] for r in first["data"]]
    cursor = first["next_cursor"]
    while cursor:
        page = await cari(client, limit=7, cursor=cursor)
        seen += [r["no_permohonan"] for r in page["data"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen))
    assert newer["no_permohonan"] not in seen  # newer than the first page: not mixed in later
    assert set(seen) - {same_time_as_last_seen["no_permohonan"]} == {r["no_permohonan"] for r in DATA}


async def test_a_batch_of_1000_numbers_is_answered_in_one_request(
    tmp_path: Path, asgi_client: Any
) -> None:
    url = f"sqlite:///{tmp_path / 'besar.db'}"
    many = [application(i, received=START + timedelta(minutes=i)) for i in range(1200)]
    load(url, permit_types=PERMIT_TYPES, applications=many)
    keys = [r["no_permohonan"] for r in many[100:1100]]
    async with asgi_client(create_app(db_url=url, api_key=API_KEY), headers=KEY_HEADER) as client:
        page = await cari(client, no_permohonan=keys, limit=1000)
        assert {r["no_permohonan"] for r in page["data"]} == set(keys)
        assert all(len(r["riwayat"]) >= 1 and len(r["persyaratan"]) == 2 for r in page["data"])
        stats = (await client.get("/_admin/stats")).json()["requests"]
        assert stats == {"POST /api/v1/permohonan/cari": 1}
        too_many = await client.post("/api/v1/permohonan/cari", json={"no_permohonan": keys + ["x"]})
    assert too_many.status_code == 400


# -- single record, status -------------------------------------------------------------


async def test_one_application_by_url_encoded_number(client: httpx.AsyncClient) -> None:
    response = await client.get(path(number(5)))
    assert response.status_code == 200
    assert response.json()["no_permohonan"] == number(5)
    missing = await client.get(path("503/DPMPTSP/2025/999999-XXXX"))
    assert missing.status_code == 404 and missing.json()["error"]["kode"] == "TIDAK_DITEMUKAN"


async def test_an_application_walks_the_whole_workflow_and_finishes_once(
    client: httpx.AsyncClient,
) -> None:
    no = number(0)  # DIAJUKAN
    steps = ["PEMERIKSAAN_BERKAS", "BERKAS_TIDAK_LENGKAP", "DIAJUKAN", "PEMERIKSAAN_BERKAS", "ENTRY_DATA",
             "TINJAUAN_LAPANGAN", "PENETAPAN", "DRAFT_SK", "PARAF", "TTE", "TERBIT"]
    for status in steps:
        response = await client.post(f"{path(no)}/status", json={"status": status, "petugas": "andi"})
        assert response.status_code == 200, (status, response.text)
        assert response.json()["tgl_selesai"] is None or status == "TERBIT"
    issued = response.json()
    assert issued["status"] == "TERBIT" and issued["tgl_selesai"] is not None
    assert [s["status"] for s in issued["riwayat"]] == ["DIAJUKAN", *steps]
    assert issued["riwayat"][-1]["petugas"] == "andi"
    delivered = (await client.post(f"{path(no)}/status", json={"status": "DISERAHKAN"})).json()
    assert delivered["tgl_selesai"] == issued["tgl_selesai"]  # the clock stopped at TERBIT
    revoked = await client.post(f"{path(no)}/status", json={"status": "DICABUT", "catatan": "pelanggaran"})
    assert revoked.status_code == 200 and revoked.json()["riwayat"][-1]["catatan"] == "pelanggaran"


@pytest.mark.parametrize(
    ("i", "status", "code", "kode"),
    [
        pytest.param(0, "TERBIT", 409, "TRANSISI_TIDAK_VALID", id="skip-ahead"),
        pytest.param(3, "DIBATALKAN", 409, "TRANSISI_TIDAK_VALID", id="cancel-after-final"),
        pytest.param(2, "PEMERIKSAAN_BERKAS", 409, "TRANSISI_TIDAK_VALID", id="backwards"),
        pytest.param(0, "SELESAI", 400, "PERMINTAAN_TIDAK_VALID", id="unknown-status"),
    ],
)
async def test_forbidden_status_changes_are_refused_and_write_nothing(
    client: httpx.AsyncClient, i: int, status: str, code: int, kode: str
) -> None:
    before = (await client.get(path(number(i)))).json()
    feed_before = (await client.get("/api/v1/perubahan", params={"limit": 1000})).json()
    response = await client.post(f"{path(number(i))}/status", json={"status": status})
    assert response.status_code == code and response.json()["error"]["kode"] == kode
    assert (await client.get(path(number(i)))).json() == before
    assert (await client.get("/api/v1/perubahan", params={"limit": 1000})).json() == feed_before


async def test_status_change_of_an_unknown_application_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{path('tidak/ada')}/status", json={"status": "DIBATALKAN"})
    assert response.status_code == 404


async def test_a_repeated_idempotency_key_returns_the_first_answer_and_writes_once(
    client: httpx.AsyncClient,
) -> None:
    headers = {"Idempotency-Key": "ubah-1"}
    body = {"status": "PEMERIKSAAN_BERKAS", "petugas": "andi"}
    first = await client.post(f"{path(number(4))}/status", json=body, headers=headers)
    again = await client.post(f"{path(number(4))}/status", json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    record = (await client.get(path(number(4)))).json()
    assert [s["status"] for s in record["riwayat"]].count("PEMERIKSAAN_BERKAS") == 1
    other = await client.post(f"{path(number(4))}/status", json={"status": "DIBATALKAN"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["error"]["kode"] == "KUNCI_IDEMPOTENSI_BENTROK"


async def test_concurrent_retries_with_one_key_write_once(client: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "serentak"}
    body = {"status": "PEMERIKSAAN_BERKAS"}
    answers = await asyncio.gather(
        *(client.post(f"{path(number(8))}/status", json=body, headers=headers) for _ in range(10))
    )
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1
    record = (await client.get(path(number(8)))).json()
    assert [s["status"] for s in record["riwayat"]] == ["DIAJUKAN", "PEMERIKSAAN_BERKAS"]


async def test_an_oversized_body_gets_413_json(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/permohonan/cari", json={"nama": "x" * 2_000_000})
    assert response.status_code == 413
    assert response.json()["error"]["kode"] == "PERMINTAAN_TERLALU_BESAR"


def test_the_workflow_table_encodes_the_design() -> None:
    assert set(TRANSITIONS) == set(STATUSES)
    for status in STATUSES:
        assert ("DIBATALKAN" in TRANSITIONS[status]) == (status not in FINAL_STATUSES)
    assert TRANSITIONS["ENTRY_DATA"] == {"TINJAUAN_LAPANGAN", "REKOMENDASI", "DIBATALKAN"}
    assert TRANSITIONS["TERBIT"] == {"DISERAHKAN", "DICABUT"}
    assert TRANSITIONS["DICABUT"] == frozenset()


# -- change feed -----------------------------------------------------------------------


async def test_the_change_feed_lists_every_record_once_and_continues_after_a_change(
    client: httpx.AsyncClient,
) -> None:
    keys: list[str] = []
    since = None
    while True:
        params: dict[str, Any] = {"limit": 10} | ({"since": since} if since else {})
        batch = (await client.get("/api/v1/perubahan", params=params)).json()
        keys += [entry["kunci"] for entry in batch["data"]]
        since = batch["next_cursor"]
        if not batch["has_more"]:
            break
    assert sorted(keys) == sorted(r["no_permohonan"] for r in DATA)
    empty = (await client.get("/api/v1/perubahan", params={"since": since})).json()
    assert empty["data"] == [] and empty["next_cursor"] == since and not empty["has_more"]
    await client.post(f"{path(number(0))}/status", json={"status": "PEMERIKSAAN_BERKAS"})
    after = (await client.get("/api/v1/perubahan", params={"since": since})).json()
    assert [entry["kunci"] for entry in after["data"]] == [number(0)]
    assert after["data"][0]["waktu"].endswith("+07:00")


# -- reference data, statistics, stats ---------------------------------------------------


async def test_permit_types_are_listed(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/jenis-izin")
    expected = [{**p, "persyaratan": []} for p in sorted(PERMIT_TYPES, key=lambda p: p["kode"])]
    assert response.json() == {"data": expected}  # these types name no requirements


async def test_statistics_count_by_status_and_permit_type_with_filters(
    client: httpx.AsyncClient,
) -> None:
    params = {"dari": "2025-01-08", "sampai": "2025-02-01", "kode_kelurahan": "1471081001,1471081005"}
    stats = (await client.get("/api/v1/statistik", params=params)).json()
    chosen = [
        r for r in DATA
        if "2025-01-08" <= r["tgl_pengajuan"][:10] <= "2025-02-01" and r["kode_kelurahan"] != "1471151002"
    ]
    assert stats["total"] == len(chosen)
    assert stats["per_status"] == dict(Counter(r["status"] for r in chosen))
    assert stats["per_jenis_izin"] == dict(Counter(r["kode_jenis_izin"] for r in chosen))
    cross = Counter((r["kode_jenis_izin"], r["status"]) for r in chosen)
    assert {(row["jenis_izin"], row["status"]): row["jumlah"] for row in stats["per_jenis_izin_status"]} == cross
    only_sip = (await client.get("/api/v1/statistik", params={"kode_jenis_izin": "SIP"})).json()
    assert only_sip["per_jenis_izin"] == {"SIP": sum(r["kode_jenis_izin"] == "SIP" for r in DATA)}


async def test_request_counters_use_route_templates(client: httpx.AsyncClient) -> None:
    await client.get(path(number(1)))
    await client.get(path(number(2)))
    await client.post("/api/v1/permohonan/cari", json={})
    counts = (await client.get("/_admin/stats")).json()["requests"]
    assert counts["GET /api/v1/permohonan/{no_permohonan}"] == 2
    assert counts["POST /api/v1/permohonan/cari"] == 1


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"{bukan json", id="malformed-json"),
        pytest.param(b"[1, 2]", id="not-an-object"),
        pytest.param(b'{"limit": "10"}', id="limit-as-text"),
        pytest.param(b'{"limit": 0}', id="limit-too-small"),
        pytest.param(b'{"limit": 1001}', id="limit-too-large"),
        pytest.param(b'{"dari": "2025-02-30"}', id="impossible-date"),
        pytest.param(b'{"dari": "2025-03-01", "sampai": "2025-02-01"}', id="period-backwards"),
        pytest.param(b'{"cursor": "bukan-cursor"}', id="bad-cursor"),
        pytest.param(b'{"cursor": "WzFd"}', id="cursor-of-wrong-shape"),
        pytest.param(b'{"status": ["DIAJUKAN", "ENTAH"]}', id="unknown-status"),
        pytest.param(b'{"nik_pemohon": "1471084107900001"}', id="key-list-as-string"),
        pytest.param(b'{"include_total": "ya"}', id="bool-as-text"),
        pytest.param(b'{"warna": "merah"}', id="unknown-filter"),
    ],
)
async def test_bad_search_bodies_get_400_with_a_code(client: httpx.AsyncClient, content: bytes) -> None:
    response = await client.post("/api/v1/permohonan/cari", content=content)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["kode"] == "PERMINTAAN_TIDAK_VALID" and error["pesan"]


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        pytest.param("GET", "/api/v1/perubahan?limit=abc", None, id="feed-limit-text"),
        pytest.param("GET", "/api/v1/perubahan?limit=5000", None, id="feed-limit-large"),
        pytest.param("GET", "/api/v1/perubahan?since=xyz", None, id="feed-bad-cursor"),
        pytest.param("GET", "/api/v1/statistik?dari=kemarin", None, id="stats-bad-date"),
        pytest.param("GET", "/api/v1/statistik?warna=merah", None, id="stats-unknown-param"),
        pytest.param("POST", f"/api/v1/permohonan/{quote(number(0), safe='')}/status", b'{"status": 5}', id="status-wrong-type"),
        pytest.param("POST", f"/api/v1/permohonan/{quote(number(0), safe='')}/status", b"{}", id="status-missing"),
        pytest.param("POST", "/_admin/faults", b'{"failure_rate": 2}', id="faults-out-of-range"),
    ],
)
async def test_other_bad_requests_get_400_with_a_code(
    client: httpx.AsyncClient, method: str, url: str, body: bytes | None
) -> None:
    response = await client.request(method, url, content=body)
    assert response.status_code == 400
    assert response.json()["error"]["kode"] == "PERMINTAAN_TIDAK_VALID"


async def test_unknown_routes_and_methods_answer_json(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/tidak-ada")
    assert missing.status_code == 404 and missing.json()["error"]["kode"] == "TIDAK_DITEMUKAN"
    wrong = await client.delete("/api/v1/jenis-izin")
    assert wrong.status_code == 405 and "kode" in wrong.json()["error"]


# -- faults ------------------------------------------------------------------------------


async def test_injected_latency_delays_api_requests_but_not_health(client: httpx.AsyncClient) -> None:
    # a latency well above what a loaded test process adds, so that the health check
    # answering faster than it tells "not delayed" apart from "slow today"
    setting = await client.post("/_admin/faults", json={"latency_ms": 500})
    assert setting.json() == {"latency_ms": 500, "failure_rate": 0.0, "down": False, "upload_fail_after": None}
    started = time.perf_counter()
    await client.get("/api/v1/jenis-izin")
    assert time.perf_counter() - started >= 0.5
    started = time.perf_counter()
    await client.get("/health")
    assert time.perf_counter() - started < 0.5


async def test_failure_rate_one_and_down_answer_503_until_cleared(client: httpx.AsyncClient) -> None:
    await client.post("/_admin/faults", json={"failure_rate": 1.0})
    failed = await client.post("/api/v1/permohonan/cari", json={})
    assert failed.status_code == 503 and failed.json()["error"]["kode"] == "GANGGUAN"
    await client.post("/_admin/faults", json={"failure_rate": 0, "down": True})
    assert (await client.get("/_admin/faults")).json()["down"] is True
    assert (await client.get("/api/v1/jenis-izin")).status_code == 503
    assert (await client.get("/health")).status_code == 200
    await client.post("/_admin/faults", json={"down": False})
    assert (await client.get("/api/v1/jenis-izin")).status_code == 200


async def test_failure_rate_from_the_factory_applies_from_the_start(db_url: str, asgi_client: Any) -> None:
    async with asgi_client(
        create_app(db_url=db_url, api_key=API_KEY, failure_rate=1.0), headers=KEY_HEADER
    ) as client:
        assert (await client.get("/api/v1/jenis-izin")).status_code == 503


# -- loader, process -------------------------------------------------------------------------


def test_loading_again_replaces_the_previous_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ulang.db'}"
    assert load(url, permit_types=PERMIT_TYPES, applications=DATA) == 36
    assert load(url, permit_types=PERMIT_TYPES, applications=(a for a in DATA[:5])) == 5


def test_loading_a_record_without_a_required_field_names_it(tmp_path: Path) -> None:
    broken = {k: v for k, v in DATA[0].items() if k != "nama_pemohon"}
    with pytest.raises(ValueError, match="nama_pemohon"):
        load(f"sqlite:///{tmp_path / 'rusak.db'}", permit_types=PERMIT_TYPES, applications=[broken])


def test_the_service_runs_as_a_process_on_a_free_port(db_url: str, service_process: Any) -> None:
    with service_process("demo.licensing", "--db", db_url, "--api-key", API_KEY) as base_url:
        assert base_url.startswith("http://127.0.0.1:") and not base_url.endswith(":0")
        with httpx.Client(base_url=base_url, headers={"X-API-Key": API_KEY}) as http:
            page = http.post("/api/v1/permohonan/cari", json={"limit": 3, "include_total": True}).json()
            assert page["total"] == len(DATA) and len(page["data"]) == 3
            assert http.get(path(number(7))).json()["no_permohonan"] == number(7)


@pytest.mark.postgres
async def test_the_service_works_on_postgresql(asgi_client: Any) -> None:
    with postgres_database("demo_perizinan", driver=None) as url:
        load(url, permit_types=PERMIT_TYPES, applications=DATA)
        async with asgi_client(create_app(db_url=url, api_key=API_KEY), headers=KEY_HEADER) as client:
            first = await cari(client, limit=20, include_total=True)
            rest = await cari(client, limit=20, cursor=first["next_cursor"])
            seen = [r["no_permohonan"] for r in first["data"] + rest["data"]]
            assert seen == newest_first(DATA) and first["total"] == len(DATA)
            changed = await client.post(f"{path(number(0))}/status", json={"status": "DIBATALKAN"})
            assert changed.status_code == 200 and changed.json()["tgl_selesai"] is not None
