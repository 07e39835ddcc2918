"""The sample complaint service (demo/complaints) against demo/API.md."""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from demo.complaints.app import create_app
from demo.complaints.storage import load
from demo.complaints.workflow import FINAL_STATUSES, STATUSES, TRANSITIONS
from tests.support.sample_service import SampleService

API_KEY = "kunci-lapor"
KEY_HEADER = {"X-API-Key": API_KEY}
CATEGORIES = ["Infrastruktur", "Kebersihan", "Administrasi Kependudukan", "Keamanan"]
KELURAHAN = ["1471081001", "1471081005", "1471151002"]
STATUS_CYCLE = ["DITERIMA", "TERVERIFIKASI", "DIDISPOSISIKAN", "DITINDAKLANJUTI", "SELESAI", "DITUNDA"]
CLASSES = ["PENGADUAN", "ASPIRASI", "PERMINTAAN_INFORMASI"]
VISIBILITY = ["PUBLIK", "PUBLIK", "RAHASIA", "ANONIM"]
START = datetime(2025, 2, 3, 9, 0)


def _iso(moment: datetime) -> str:
    return moment.isoformat() + "+07:00"


def ticket(i: int) -> str:
    return f"LPR-2025-{(i * 104729) % 0xFFFFFF:06X}"


def complaint(i: int, *, reported: datetime | None = None) -> dict[str, Any]:
    reported = reported or START + timedelta(days=i, minutes=7 * i)
    status = STATUS_CYCLE[i % len(STATUS_CYCLE)]
    later = reported + timedelta(days=1)
    return {
        "no_tiket": ticket(i),
        "judul": f"Laporan nomor {i}",
        "isi": "Jalan berlubang dan selokan tersumbat.",
        "klasifikasi": CLASSES[i % len(CLASSES)],
        "kategori": CATEGORIES[i % len(CATEGORIES)],
        "kode_kelurahan": KELURAHAN[i % len(KELURAHAN)],
        "lokasi": f"Jl. Delima RT 0{i % 9 + 1}",
        "kanal": "WEBSITE",
        "kerahasiaan": VISIBILITY[i % len(VISIBILITY)],
        "nik_pelapor": None if i % 7 == 0 else f"1471085203{880000 + i % 5:06d}",
        "tgl_lapor": _iso(reported),
        "status": status,
        "disposisi": [{"ke_unit": "Dinas PUPR", "waktu": _iso(later), "catatan": "segera"}]
        if status in {"DIDISPOSISIKAN", "DITINDAKLANJUTI", "SELESAI"}
        else [],
        "tindak_lanjut": [{"unit": "Dinas PUPR", "waktu": _iso(later + timedelta(days=1)), "isi": "ditambal"}]
        if status in {"DITINDAKLANJUTI", "SELESAI"}
        else [],
        "riwayat": [{"status": "DITERIMA", "waktu": _iso(reported), "catatan": None}]
        + ([{"status": status, "waktu": _iso(later), "catatan": "ok"}] if status != "DITERIMA" else []),
    }


DATA = [complaint(i) for i in range(30)]
NEW = {
    "judul": "Lampu jalan mati",
    "isi": "Lampu jalan di depan sekolah mati sejak seminggu.",
    "klasifikasi": "PENGADUAN",
    "kategori": "Infrastruktur",
    "kode_kelurahan": "1471081005",
    "lokasi": "Jl. Delima",
    "kanal": "APLIKASI_MOBILE",
    "kerahasiaan": "ANONIM",
    "nik_pelapor": "1471085203889999",
}


def newest_first(records: list[dict[str, Any]]) -> list[str]:
    ordered = sorted(records, key=lambda r: (r["tgl_lapor"], r["no_tiket"]), reverse=True)
    return [r["no_tiket"] for r in ordered]


@pytest.fixture(scope="module")
def sample_service() -> SampleService:
    def fill(url: str) -> int:
        count = load(url, categories=CATEGORIES, complaints=DATA)
        assert count == len(DATA)
        return count

    return SampleService("lapor", fill, create_app, API_KEY)


async def cari(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/laporan/cari", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def path(no: str) -> str:
    return f"/api/v1/laporan/{quote(no, safe='')}"


async def test_requests_without_the_right_api_key_get_401_json(db_url: str, asgi_client: Any) -> None:
    async with asgi_client(create_app(db_url=db_url, api_key=API_KEY)) as bare:
        for headers in ({}, {"X-API-Key": "salah"}):
            response = await bare.post("/api/v1/laporan", json=NEW, headers=headers)
            assert response.status_code == 401
            assert response.json()["error"]["kode"] == "API_KEY_INVALID"
        assert (await bare.get("/health")).json() == {"status": "ok"}
        assert (await bare.get("/api/v1/kategori", headers=KEY_HEADER)).json() == {"data": CATEGORIES}


async def test_search_returns_newest_first_with_dispositions_and_follow_ups(
    client: httpx.AsyncClient,
) -> None:
    page = await cari(client, limit=1000)
    assert [r["no_tiket"] for r in page["data"]] == newest_first(DATA)
    record = next(r for r in page["data"] if r["no_tiket"] == ticket(3))
    assert record["disposisi"] == DATA[3]["disposisi"]
    assert record["tindak_lanjut"] == DATA[3]["tindak_lanjut"]
    assert record["riwayat"] == DATA[3]["riwayat"]
    assert record["tgl_lapor"] == DATA[3]["tgl_lapor"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param({"no_tiket": [ticket(4), ticket(9)]}, lambda r: r["no_tiket"] in {ticket(4), ticket(9)}, id="no_tiket"),
        pytest.param({"nik_pelapor": ["1471085203880001"]}, lambda r: r["nik_pelapor"] == "1471085203880001", id="nik_pelapor"),
        pytest.param({"kode_kelurahan": ["1471151002"]}, lambda r: r["kode_kelurahan"] == "1471151002", id="kode_kelurahan"),
        pytest.param({"status": ["SELESAI", "DITUNDA"]}, lambda r: r["status"] in {"SELESAI", "DITUNDA"}, id="status"),
        pytest.param({"kategori": ["Keamanan"]}, lambda r: r["kategori"] == "Keamanan", id="kategori"),
        pytest.param({"klasifikasi": ["ASPIRASI"]}, lambda r: r["klasifikasi"] == "ASPIRASI", id="klasifikasi"),
        pytest.param({"kerahasiaan": ["RAHASIA", "ANONIM"]}, lambda r: r["kerahasiaan"] != "PUBLIK", id="kerahasiaan"),
        pytest.param({"dari": "2025-02-10", "sampai": "2025-02-15"}, lambda r: "2025-02-10" <= r["tgl_lapor"][:10] <= "2025-02-15", id="dari-sampai"),
        pytest.param({"kategori": ["Infrastruktur"], "status": ["DITERIMA"]}, lambda r: r["kategori"] == "Infrastruktur" and r["status"] == "DITERIMA", id="combined"),
    ],
)
async def test_every_filter_selects_exactly_the_matching_complaints(
    client: httpx.AsyncClient, body: dict[str, Any], expected: Any
) -> None:
    page = await cari(client, limit=1000, include_total=True, **body)
    wanted = newest_first([r for r in DATA if expected(r)])
    assert [r["no_tiket"] for r in page["data"]] == wanted
    assert page["total"] == len(wanted)


async def test_pages_are_stable_when_complaints_are_submitted_between_pages(
    client: httpx.AsyncClient,
) -> None:
    first = await cari(client, limit=4, kode_kelurahan=["1471081005"])
    seen = [r["no_tiket"] for r in first["data"]]
    created = (await client.post("/api/v1/laporan", json=NEW)).json()["no_tiket"]
    cursor = first["next_cursor"]
    while cursor:
        page = await cari(client, limit=4, cursor=cursor, kode_kelurahan=["1471081005"])
        seen += [r["no_tiket"] for r in page["data"]]
        cursor = page["next_cursor"]
    assert created not in seen
    assert seen == newest_first([r for r in DATA if r["kode_kelurahan"] == "1471081005"])


async def test_a_batch_of_1000_reporter_niks_is_answered_in_one_request(
    tmp_path: Path, asgi_client: Any
) -> None:
    url = f"sqlite:///{tmp_path / 'besar.db'}"
    many = []
    for i in range(1000):
        item = complaint(i, reported=START + timedelta(minutes=i))
        item["no_tiket"] = f"LPR-2025-{i:06d}"
        item["nik_pelapor"] = f"1471085203{i:06d}"
        many.append(item)
    load(url, categories=CATEGORIES, complaints=many)
    keys = [item["nik_pelapor"] for item in many]
    async with asgi_client(create_app(db_url=url, api_key=API_KEY), headers=KEY_HEADER) as client:
        page = await cari(client, nik_pelapor=keys, limit=1000)
        assert sorted(r["nik_pelapor"] for r in page["data"]) == sorted(keys)
        assert (await client.get("/_admin/stats")).json() == {"requests": {"POST /api/v1/laporan/cari": 1}}


async def test_a_submitted_complaint_is_stored_as_received_with_an_unguessable_number(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/api/v1/laporan", json=NEW)
    assert response.status_code == 201
    record = response.json()
    assert re.fullmatch(r"LPR-\d{4}-[2-9A-HJ-NP-Z]{6}", record["no_tiket"])
    assert record["status"] == "DITERIMA" and [s["status"] for s in record["riwayat"]] == ["DITERIMA"]
    assert {k: record[k] for k in NEW} == NEW
    assert record["tgl_lapor"].endswith("+07:00")
    assert (await client.get(path(record["no_tiket"]))).json() == record
    other = (await client.post("/api/v1/laporan", json=NEW)).json()
    assert other["no_tiket"] != record["no_tiket"]
    newest = await cari(client, limit=1)
    assert newest["data"][0]["no_tiket"] == other["no_tiket"]


async def test_a_repeated_submission_with_the_same_key_creates_one_complaint(
    client: httpx.AsyncClient,
) -> None:
    headers = {"Idempotency-Key": "kirim-42"}
    first = await client.post("/api/v1/laporan", json=NEW, headers=headers)
    again = await client.post("/api/v1/laporan", json=NEW, headers=headers)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    page = await cari(client, nik_pelapor=[NEW["nik_pelapor"]], include_total=True)
    assert page["total"] == 1
    changed = await client.post("/api/v1/laporan", json={**NEW, "judul": "Lain"}, headers=headers)
    assert changed.status_code == 422 and changed.json()["error"]["kode"] == "KUNCI_IDEMPOTENSI_BENTROK"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({**NEW, "klasifikasi": "KELUHAN"}, id="unknown-classification"),
        pytest.param({**NEW, "kategori": "Astrologi"}, id="unknown-category"),
        pytest.param({**NEW, "kode_kelurahan": "14710810"}, id="short-kelurahan"),
        pytest.param({**NEW, "nik_pelapor": "12345"}, id="short-nik"),
        pytest.param({**NEW, "judul": "  "}, id="blank-title"),
        pytest.param({k: v for k, v in NEW.items() if k != "isi"}, id="missing-content"),
        pytest.param({**NEW, "no_tiket": "LPR-2025-AAAAAA"}, id="client-chosen-number"),
    ],
)
async def test_bad_submissions_get_400_and_store_nothing(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await client.post("/api/v1/laporan", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["kode"] == "PERMINTAAN_TIDAK_VALID"
    assert (await cari(client, include_total=True))["total"] == len(DATA)


async def test_a_complaint_follows_the_lapor_workflow(client: httpx.AsyncClient) -> None:
    no = (await client.post("/api/v1/laporan", json=NEW)).json()["no_tiket"]
    steps = ["DITUNDA", "TERVERIFIKASI", "DIDISPOSISIKAN", "DITINDAKLANJUTI", "TANGGAPAN_PELAPOR",
             "DITINDAKLANJUTI", "SELESAI"]
    for status in steps:
        response = await client.post(f"{path(no)}/status", json={"status": status, "catatan": status.lower()})
        assert response.status_code == 200, (status, response.text)
    record = response.json()
    assert record["status"] == "SELESAI"
    assert [s["status"] for s in record["riwayat"]] == ["DITERIMA", *steps]
    assert record["riwayat"][-1]["catatan"] == "selesai"
    reopened = await client.post(f"{path(no)}/status", json={"status": "DITINDAKLANJUTI"})
    assert reopened.status_code == 409 and reopened.json()["error"]["kode"] == "TRANSISI_TIDAK_VALID"


@pytest.mark.parametrize(
    ("current", "status"),
    [("DITERIMA", "DIDISPOSISIKAN"), ("DITERIMA", "SELESAI"), ("DITUNDA", "DIDISPOSISIKAN"),
     ("TERVERIFIKASI", "DITINDAKLANJUTI"), ("SELESAI", "DITERIMA")],
)
async def test_forbidden_complaint_transitions_get_409(
    client: httpx.AsyncClient, current: str, status: str
) -> None:
    no = next(r["no_tiket"] for r in DATA if r["status"] == current)
    response = await client.post(f"{path(no)}/status", json={"status": status})
    assert response.status_code == 409
    assert (await client.get(path(no))).json()["status"] == current


async def test_a_repeated_status_update_with_the_same_key_is_applied_once(client: httpx.AsyncClient) -> None:
    no = next(r["no_tiket"] for r in DATA if r["status"] == "DITERIMA")
    headers = {"Idempotency-Key": "verif-1"}
    first = await client.post(f"{path(no)}/status", json={"status": "TERVERIFIKASI"}, headers=headers)
    again = await client.post(f"{path(no)}/status", json={"status": "TERVERIFIKASI"}, headers=headers)
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    assert [s["status"] for s in first.json()["riwayat"]] == ["DITERIMA", "TERVERIFIKASI"]


def test_the_workflow_table_encodes_the_design() -> None:
    assert set(TRANSITIONS) == set(STATUSES)
    assert TRANSITIONS["DITERIMA"] == {"TERVERIFIKASI", "DITUNDA", "BUKAN_WEWENANG", "DIARSIPKAN"}
    assert "DITINDAKLANJUTI" in TRANSITIONS["TANGGAPAN_PELAPOR"]
    assert all(not TRANSITIONS[status] for status in FINAL_STATUSES)


async def test_the_change_feed_follows_submissions_and_status_changes(client: httpx.AsyncClient) -> None:
    everything = (await client.get("/api/v1/perubahan", params={"limit": 1000})).json()
    assert sorted(e["kunci"] for e in everything["data"]) == sorted(ticket(i) for i in range(30))
    since = everything["next_cursor"]
    no = (await client.post("/api/v1/laporan", json=NEW)).json()["no_tiket"]
    await client.post(f"{path(no)}/status", json={"status": "TERVERIFIKASI"})
    batch = (await client.get("/api/v1/perubahan", params={"since": since, "limit": 1})).json()
    assert [e["kunci"] for e in batch["data"]] == [no] and batch["has_more"]
    rest = (await client.get("/api/v1/perubahan", params={"since": batch["next_cursor"]})).json()
    assert [e["kunci"] for e in rest["data"]] == [no] and not rest["has_more"]


async def test_statistics_count_by_status_and_category(client: httpx.AsyncClient) -> None:
    params = {"dari": "2025-02-05", "kode_kelurahan": ["1471081001", "1471151002"]}
    stats = (await client.get("/api/v1/statistik", params=params)).json()
    chosen = [r for r in DATA if r["tgl_lapor"][:10] >= "2025-02-05" and r["kode_kelurahan"] != "1471081005"]
    assert stats["total"] == len(chosen)
    assert stats["per_status"] == dict(Counter(r["status"] for r in chosen))
    assert stats["per_kategori"] == dict(Counter(r["kategori"] for r in chosen))
    assert stats["per_kerahasiaan"] == dict(Counter(r["kerahasiaan"] for r in chosen))
    one = (await client.get("/api/v1/statistik", params={"kategori": "Keamanan"})).json()
    assert one["total"] == sum(r["kategori"] == "Keamanan" for r in DATA)


@pytest.mark.parametrize(
    ("method", "url", "content"),
    [
        pytest.param("POST", "/api/v1/laporan/cari", b'{"limit": 5000}', id="limit"),
        pytest.param("POST", "/api/v1/laporan/cari", b'{"kerahasiaan": ["TERBUKA"]}', id="visibility"),
        pytest.param("POST", "/api/v1/laporan/cari", b'{"sampai": "02-03-2025"}', id="date-format"),
        pytest.param("POST", "/api/v1/laporan/cari", b'{"cursor": 12}', id="cursor-type"),
        pytest.param("POST", "/api/v1/laporan", b"judul=lampu", id="form-body"),
        pytest.param("GET", "/api/v1/perubahan?since=-1", None, id="feed-cursor"),
        pytest.param("GET", "/api/v1/statistik?sampai=2025-13-01", None, id="stats-date"),
    ],
)
async def test_bad_input_gets_400_with_a_code(
    client: httpx.AsyncClient, method: str, url: str, content: bytes | None
) -> None:
    response = await client.request(method, url, content=content)
    assert response.status_code == 400
    assert response.json()["error"]["kode"] == "PERMINTAAN_TIDAK_VALID"


async def test_faults_delay_fail_and_take_the_service_down(client: httpx.AsyncClient) -> None:
    await client.post("/_admin/faults", json={"latency_ms": 120})
    started = time.perf_counter()
    assert (await client.get("/api/v1/kategori")).status_code == 200
    assert time.perf_counter() - started >= 0.12
    await client.post("/_admin/faults", json={"latency_ms": 0, "failure_rate": 1})
    failed = await client.post("/api/v1/laporan", json=NEW)
    assert failed.status_code == 503 and failed.json()["error"]["kode"] == "GANGGUAN"
    await client.post("/_admin/faults", json={"failure_rate": 0, "down": True})
    assert (await client.get(path(ticket(1)))).status_code == 503
    assert (await client.get("/health")).status_code == 200
    await client.post("/_admin/faults", json={"down": False})
    assert (await cari(client, include_total=True))["total"] == len(DATA)  # the failed submission wrote nothing


def test_the_service_runs_as_a_process_on_a_free_port(db_url: str, service_process: Any) -> None:
    args = ("--db", db_url, "--api-key", API_KEY, "--latency-ms", "1")
    with service_process("demo.complaints", *args) as base_url:
        with httpx.Client(base_url=base_url, headers=KEY_HEADER) as http:
            created = http.post("/api/v1/laporan", json=NEW)
            assert created.status_code == 201
            assert http.get(path(created.json()["no_tiket"])).json()["status"] == "DITERIMA"
            assert http.get("/_admin/faults").json()["latency_ms"] == 1
