"""The licensing service's applications and documents (API.md, "Applications and
documents"): create with documents, all or nothing; upload, list and download; the
officer's BERKAS_TIDAK_LENGKAP with what is missing, and the applicant completing it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from demo.licensing.app import create_app
from demo.licensing.requirements import requirements
from demo.licensing.storage import load

API_KEY = "kunci-uji"
NIK = "1471084107900001"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + b"0" * 2000
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 500
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 500
PERMIT_TYPES = [
    {"kode": "IUMK", "nama": "Izin Usaha Mikro dan Kecil", "sla_hari": 3,
     "persyaratan": requirements(["KTP pemohon", "Kartu Keluarga", "Pas foto 3x4", "Foto tempat usaha"])},
    {"kode": "PBG", "nama": "Persetujuan Bangunan Gedung", "sla_hari": 20,
     "persyaratan": requirements(["KTP pemohon", "Gambar rencana teknis"])},
]
DATA = {
    "nik_pemohon": NIK,
    "nama_pemohon": "Siti Rahmawati",
    "kode_jenis_izin": "IUMK",
    "kode_kelurahan": "1471081001",
    "alamat_usaha": "Jl. Delima No. 3",
}
COMPLETE = {"KTP_PEMOHON": ("ktp.pdf", PDF), "KARTU_KELUARGA": ("kk.pdf", PDF), "PAS_FOTO_3X4": ("foto.png", PNG)}


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "berkas"


@pytest.fixture
async def service(tmp_path: Path, store: Path, asgi_client: Any) -> Any:
    url = f"sqlite:///{tmp_path / 'perizinan.db'}"
    load(url, permit_types=PERMIT_TYPES, applications=[])
    app = create_app(db_url=url, api_key=API_KEY, files_dir=store)
    async with asgi_client(app, headers={"X-API-Key": API_KEY}) as client:
        client.app = app
        yield client


def files_of(documents: dict[str, tuple[str, bytes]]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [(code, (name, content, "application/octet-stream")) for code, (name, content) in documents.items()]


async def create(client: httpx.AsyncClient, documents: dict[str, tuple[str, bytes]], *, key: str | None = None,
                 data: dict[str, Any] | None = None) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return await client.post(
        "/api/v1/permohonan", data={"data": json.dumps(data or DATA)}, files=files_of(documents), headers=headers
    )


async def applications_of(client: httpx.AsyncClient, nik: str = NIK) -> list[dict[str, Any]]:
    answer = await client.post("/api/v1/permohonan/cari", json={"nik_pemohon": [nik], "limit": 100})
    return answer.json()["data"]


def stored_files(store: Path) -> list[Path]:
    return [p for p in store.rglob("*") if p.is_file()]


def path(no: str) -> str:
    return f"/api/v1/permohonan/{quote(no, safe='')}"


async def test_permit_types_list_their_requirements(service: httpx.AsyncClient) -> None:
    types = {t["kode"]: t for t in (await service.get("/api/v1/jenis-izin")).json()["data"]}
    iumk = {r["kode"]: r for r in types["IUMK"]["persyaratan"]}
    assert iumk["KTP_PEMOHON"] == {"kode": "KTP_PEMOHON", "nama": "KTP pemohon", "wajib": True,
                                   "tipe": ["application/pdf", "image/jpeg", "image/png"], "ukuran_maks": 5 * 1024 * 1024}
    assert iumk["PAS_FOTO_3X4"]["tipe"] == ["image/jpeg", "image/png"]
    assert iumk["FOTO_TEMPAT_USAHA"]["wajib"] is False
    assert {r["kode"]: r["ukuran_maks"] for r in types["PBG"]["persyaratan"]}["GAMBAR_RENCANA_TEKNIS"] == 25 * 1024 * 1024


async def test_create_with_documents_stores_application_and_files(service: httpx.AsyncClient, store: Path) -> None:
    answer = await create(service, COMPLETE, key="k-1")
    assert answer.status_code == 201, answer.text
    record = answer.json()
    assert record["status"] == "DIAJUKAN" and record["nik_pemohon"] == NIK
    assert record["no_permohonan"].startswith("503/DPMPTSP/")
    fulfilled = {q["kode"]: q["terpenuhi"] for q in record["persyaratan"]}
    assert fulfilled == {"KTP_PEMOHON": True, "KARTU_KELUARGA": True, "PAS_FOTO_3X4": True, "FOTO_TEMPAT_USAHA": False}
    listing = (await service.get(f"{path(record['no_permohonan'])}/berkas")).json()["data"]
    assert sorted(d["kode_persyaratan"] for d in listing) == ["KARTU_KELUARGA", "KTP_PEMOHON", "PAS_FOTO_3X4"]
    photo = next(d for d in listing if d["kode_persyaratan"] == "PAS_FOTO_3X4")
    assert photo["tipe"] == "image/png" and photo["ukuran"] == len(PNG) and photo["nama_file"] == "foto.png"
    content = await service.get(f"{path(record['no_permohonan'])}/berkas/{photo['id']}")
    assert content.status_code == 200 and content.content == PNG
    assert content.headers["content-type"] == "image/png"
    assert len(stored_files(store)) == 3


async def test_same_key_same_body_answers_the_same_application_once(service: httpx.AsyncClient) -> None:
    first = await create(service, COMPLETE, key="k-2")
    again = await create(service, COMPLETE, key="k-2")
    assert again.status_code == 201 and again.json()["no_permohonan"] == first.json()["no_permohonan"]
    assert len(await applications_of(service)) == 1


async def test_same_key_different_body_is_refused_and_writes_nothing(service: httpx.AsyncClient, store: Path) -> None:
    first = await create(service, COMPLETE, key="k-3")
    other = await create(service, {**COMPLETE, "KTP_PEMOHON": ("ktp.pdf", PDF + b"x")}, key="k-3")
    assert other.status_code == 422 and other.json()["error"]["kode"] == "KUNCI_IDEMPOTENSI_BENTROK"
    assert [a["no_permohonan"] for a in await applications_of(service)] == [first.json()["no_permohonan"]]
    assert len(stored_files(store)) == 3


@pytest.mark.parametrize(
    ("documents", "code", "reason"),
    [
        pytest.param({**COMPLETE, "KTP_PEMOHON": ("ktp.pdf", EXE)}, "KTP_PEMOHON", "TIPE_TIDAK_DITERIMA", id="exe-as-pdf"),
        pytest.param({**COMPLETE, "KTP_PEMOHON": ("ktp.pdf", b"")}, "KTP_PEMOHON", "KOSONG", id="zero-bytes"),
        pytest.param({**COMPLETE, "PAS_FOTO_3X4": ("f.png", PNG + b"0" * (2 * 1024 * 1024))}, "PAS_FOTO_3X4",
                     "TERLALU_BESAR", id="oversized"),
        pytest.param({k: v for k, v in COMPLETE.items() if k != "KARTU_KELUARGA"}, "KARTU_KELUARGA", "TIDAK_ADA",
                     id="mandatory-missing"),
        pytest.param({**COMPLETE, "SURAT_LAIN": ("x.pdf", PDF)}, "SURAT_LAIN", "TIDAK_DIKENAL", id="unknown-part"),
    ],
)
async def test_bad_documents_are_refused_with_details_and_nothing_stays(
    service: httpx.AsyncClient, store: Path, documents: dict[str, tuple[str, bytes]], code: str, reason: str
) -> None:
    answer = await create(service, documents, key="k-bad")
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["kode"] == "BERKAS_TIDAK_VALID"
    assert {"persyaratan": code, "alasan": reason} in [
        {"persyaratan": d["persyaratan"], "alasan": d["alasan"]} for d in error["rincian"]
    ]
    assert await applications_of(service) == [] and stored_files(store) == []


async def test_unknown_permit_type_and_too_many_files_are_refused(service: httpx.AsyncClient) -> None:
    unknown = await create(service, COMPLETE, data={**DATA, "kode_jenis_izin": "TIDAK-ADA"})
    assert unknown.status_code == 400 and "jenis izin tidak dikenal" in unknown.json()["error"]["pesan"]
    many = [("KTP_PEMOHON", (f"{i}.pdf", PDF, "application/pdf")) for i in range(25)]
    crowded = await service.post("/api/v1/permohonan", data={"data": json.dumps(DATA)}, files=many)
    assert crowded.status_code == 400 and crowded.json()["error"]["kode"] == "PERMINTAAN_TIDAK_VALID"
    assert await applications_of(service) == []


async def test_failure_halfway_leaves_no_application_and_retry_creates_one(
    service: httpx.AsyncClient, store: Path
) -> None:
    faults = await service.post("/_admin/faults", json={"upload_fail_after": 2})
    assert faults.json()["upload_fail_after"] == 2
    failed = await create(service, COMPLETE, key="k-fault")
    assert failed.status_code == 503 and failed.json()["error"]["kode"] == "GANGGUAN"
    assert await applications_of(service) == [] and stored_files(store) == []
    await service.post("/_admin/faults", json={"upload_fail_after": None})
    retried = await create(service, COMPLETE, key="k-fault")
    repeated = await create(service, COMPLETE, key="k-fault")
    assert retried.status_code == repeated.status_code == 201
    assert retried.json()["no_permohonan"] == repeated.json()["no_permohonan"]
    assert len(await applications_of(service)) == 1 and len(stored_files(store)) == 3


async def test_incomplete_file_is_marked_and_completed_by_the_applicant(service: httpx.AsyncClient, store: Path) -> None:
    number = (await create(service, COMPLETE)).json()["no_permohonan"]
    await service.post(f"{path(number)}/status", json={"status": "PEMERIKSAAN_BERKAS", "petugas": "p1"})
    unknown = await service.post(f"{path(number)}/status",
                                 json={"status": "BERKAS_TIDAK_LENGKAP", "kekurangan": ["TIDAK_ADA"]})
    assert unknown.status_code == 400
    marked = await service.post(
        f"{path(number)}/status",
        json={"status": "BERKAS_TIDAK_LENGKAP", "catatan": "KK buram", "kekurangan": ["KARTU_KELUARGA", "FOTO_TEMPAT_USAHA"]},
    )
    assert marked.status_code == 200, marked.text
    missing = {q["kode"] for q in marked.json()["persyaratan"] if not q["terpenuhi"]}
    assert missing == {"KARTU_KELUARGA", "FOTO_TEMPAT_USAHA"} and marked.json()["status"] == "BERKAS_TIDAK_LENGKAP"
    partly = await service.post(f"{path(number)}/berkas", files=files_of({"KARTU_KELUARGA": ("kk2.pdf", PDF + b"2")}))
    assert partly.status_code == 200 and partly.json()["status"] == "BERKAS_TIDAK_LENGKAP"
    done = await service.post(f"{path(number)}/berkas", files=files_of({"FOTO_TEMPAT_USAHA": ("t.png", PNG)}))
    assert done.status_code == 200 and done.json()["status"] == "DIAJUKAN"
    assert [h["catatan"] for h in done.json()["riwayat"]][-1] == "berkas dilengkapi pemohon"
    listing = (await service.get(f"{path(number)}/berkas")).json()["data"]
    assert len(listing) == 4 and len(stored_files(store)) == 4  # the replaced KK's file is gone
    await service.post(f"{path(number)}/status", json={"status": "PEMERIKSAAN_BERKAS"})
    entry = await service.post(f"{path(number)}/status", json={"status": "ENTRY_DATA"})
    assert entry.json()["tgl_berkas_lengkap"] is not None
    locked = await service.post(f"{path(number)}/berkas", files=files_of({"KTP_PEMOHON": ("k.pdf", PDF)}))
    assert locked.status_code == 409 and locked.json()["error"]["kode"] == "BERKAS_TIDAK_DAPAT_DIUBAH"


async def test_documents_of_unknown_applications_and_other_applications_are_not_found(
    service: httpx.AsyncClient,
) -> None:
    one = (await create(service, COMPLETE)).json()["no_permohonan"]
    two = (await create(service, COMPLETE, data={**DATA, "nik_pemohon": "1471085203880002"})).json()["no_permohonan"]
    doc = (await service.get(f"{path(one)}/berkas")).json()["data"][0]["id"]
    assert (await service.get(f"{path(two)}/berkas/{doc}")).status_code == 404
    assert (await service.get(f"{path('503/X/1')}/berkas")).status_code == 404
    assert (await service.get(f"{path(one)}/berkas/../../etc")).status_code == 404
