"""In-process stand-ins for the licensing and complaint services (demo/API.md wire
format) behind `httpx.MockTransport`: search with filters and keyset cursors, status
changes with 409, submit with 201, Idempotency-Key, change feed, API key, faults."""

from __future__ import annotations

import asyncio
import base64
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import httpx2 as httpx

API_KEY = "kunci-uji"
T0 = datetime.fromisoformat("2025-03-04T09:12:00+07:00")
FINAL = {
    "TERBIT",
    "DITOLAK",
    "DICABUT",
    "DIBATALKAN",
    "DISERAHKAN",
    "SELESAI",
    "DIARSIPKAN",
}


def error(status: int, kode: str, pesan: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"kode": kode, "pesan": pesan}})


def permohonan(
    i: int,
    *,
    nik: str = "1471084107900001",
    status: str = "PEMERIKSAAN_BERKAS",
    kel: str = "1471081001",
    company: str | None = None,
) -> dict[str, Any]:
    at = (T0 + timedelta(hours=i)).isoformat()
    return {
        "no_permohonan": f"503/DPMPTSP/2025/{i:06d}-7Q4K",
        "jenis_pemohon": "BADAN_USAHA" if company else "PERORANGAN",
        "nik_pemohon": nik,
        "nama_pemohon": "Siti Rahmawati",
        "nama_perusahaan": company,
        "kode_jenis_izin": "PBG",
        "nama_jenis_izin": "Persetujuan Bangunan Gedung",
        "sla_hari": 20,
        "jenis_permohonan": "BARU",
        "tgl_pengajuan": at,
        "tgl_berkas_lengkap": None,
        "kode_kelurahan": kel,
        "alamat_usaha": "Jl. Garuda Sakti Km 3 No. 12",
        "status": status,
        "persyaratan": [{"nama": "KTP pemohon", "terpenuhi": True}],
        "riwayat": [
            {"status": "DIAJUKAN", "waktu": at, "catatan": None, "petugas": "loket"}
        ],
        "tgl_selesai": None,
    }


def laporan(
    i: int,
    *,
    nik: str | None = "1471085203880002",
    status: str = "DITERIMA",
    kerahasiaan: str = "PUBLIK",
    kategori: str = "Infrastruktur",
) -> dict[str, Any]:
    at = (T0 + timedelta(hours=i)).isoformat()
    return {
        "no_tiket": f"LPR-2025-{i:06d}",
        "judul": "Jalan berlubang di Jl. Delima",
        "isi": "Lubang besar di depan sekolah.",
        "klasifikasi": "PENGADUAN",
        "kategori": kategori,
        "kode_kelurahan": "1471081005",
        "lokasi": "Jl. Delima RT 02 RW 05",
        "kanal": "WEBSITE",
        "kerahasiaan": kerahasiaan,
        "nik_pelapor": nik,
        "tgl_lapor": at,
        "status": status,
        "disposisi": [{"ke_unit": "Dinas PUPR", "waktu": at, "catatan": "segera"}],
        "tindak_lanjut": [{"unit": "Dinas PUPR", "waktu": at, "isi": "ditinjau"}],
        "riwayat": [{"status": "DITERIMA", "waktu": at, "catatan": None}],
    }


@dataclass
class Collection:
    name: str  # permohonan | laporan
    key: str  # no_permohonan | no_tiket
    when: str  # tgl_pengajuan | tgl_lapor
    lists: dict[str, str]  # body filter → record field


LICENSING = Collection(
    "permohonan",
    "no_permohonan",
    "tgl_pengajuan",
    {
        "no_permohonan": "no_permohonan",
        "nik_pemohon": "nik_pemohon",
        "kode_kelurahan": "kode_kelurahan",
        "status": "status",
        "kode_jenis_izin": "kode_jenis_izin",
    },
)
COMPLAINTS = Collection(
    "laporan",
    "no_tiket",
    "tgl_lapor",
    {
        "no_tiket": "no_tiket",
        "nik_pelapor": "nik_pelapor",
        "kode_kelurahan": "kode_kelurahan",
        "status": "status",
        "kategori": "kategori",
        "klasifikasi": "klasifikasi",
        "kerahasiaan": "kerahasiaan",
    },
)


@dataclass
class FakeService:
    collection: Collection
    records: list[dict[str, Any]]
    down: bool = False
    latency: float = 0.0
    requests: Counter[str] = field(default_factory=Counter)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    headers: list[httpx.Headers] = field(default_factory=list)
    feed: list[dict[str, str]] = field(default_factory=list)
    idempotent: dict[str, httpx.Response] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for r in sorted(self.records, key=lambda r: r[self.collection.when]):
            self.feed.append(
                {"kunci": r[self.collection.key], "waktu": r[self.collection.when]}
            )

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        segments = [
            unquote(s) for s in request.url.raw_path.decode().split("?")[0].split("/")
        ]
        path = segments[1:]
        self.headers.append(request.headers)
        if path == ["health"]:
            return httpx.Response(200, json={"status": "ok"})
        if request.headers.get("X-API-Key") != API_KEY:
            return error(401, "API_KEY_INVALID", "kunci API tidak valid")
        if self.latency:
            # a mock transport has no socket to time out: honour the client's read timeout
            # as a real transport would
            read_timeout = request.extensions.get("timeout", {}).get("read")
            if read_timeout is not None and read_timeout < self.latency:
                await asyncio.sleep(read_timeout)
                raise httpx.ReadTimeout("no answer within the read timeout", request=request)
            await asyncio.sleep(self.latency)
        if self.down:
            return error(503, "GANGGUAN", "layanan sedang gangguan")
        body = json.loads(request.content) if request.content else {}
        coll = self.collection.name
        match path:
            case ["api", "v1", c, "cari"] if c == coll:
                self.requests["POST cari"] += 1
                self.bodies.append(body)
                return self.search(body)
            case ["api", "v1", "perubahan"]:
                self.requests["GET perubahan"] += 1
                return self.changes(request.url.params)
            case ["api", "v1", "jenis-izin"]:
                return httpx.Response(
                    200,
                    json={
                        "data": [
                            {
                                "kode": "PBG",
                                "nama": "Persetujuan Bangunan Gedung",
                                "sla_hari": 20,
                            },
                            {
                                "kode": "SIP",
                                "nama": "Surat Izin Praktik",
                                "sla_hari": 5,
                            },
                        ]
                    },
                )
            case ["api", "v1", "kategori"]:
                return httpx.Response(
                    200, json={"data": ["Infrastruktur", "Kebersihan"]}
                )
            case ["api", "v1", c, key, "status"] if (
                c == coll and request.method == "POST"
            ):
                self.requests["POST status"] += 1
                return self.idempotently(request, lambda: self.set_status(key, body))
            case ["api", "v1", "laporan"] if (
                coll == "laporan" and request.method == "POST"
            ):
                self.requests["POST laporan"] += 1
                return self.idempotently(request, lambda: self.submit(body))
        return error(404, "TIDAK_DITEMUKAN", "tidak ditemukan")

    def idempotently(self, request: httpx.Request, write: Any) -> httpx.Response:
        key = request.headers.get("Idempotency-Key")
        if key is not None and key in self.idempotent:
            return self.idempotent[key]
        response = write()
        if key is not None:
            self.idempotent[key] = response
        return response

    def search(self, body: dict[str, Any]) -> httpx.Response:
        limit = body.get("limit", 50)
        if not isinstance(limit, int) or not 1 <= limit <= 1000:
            return error(400, "PERMINTAAN_TIDAK_VALID", "limit harus 1-1000")
        rows = list(self.records)
        for name, fld in self.collection.lists.items():
            if name in body:
                rows = [r for r in rows if r[fld] in body[name]]
        if "nama" in body:
            needle = body["nama"].lower()
            rows = [
                r
                for r in rows
                if needle
                in (r["nama_pemohon"] + " " + (r["nama_perusahaan"] or "")).lower()
            ]
        when = self.collection.when
        if "dari" in body:
            rows = [r for r in rows if r[when][:10] >= body["dari"]]
        if "sampai" in body:
            rows = [r for r in rows if r[when][:10] <= body["sampai"]]
        rows.sort(key=lambda r: (r[when], r[self.collection.key]), reverse=True)
        total = len(rows)
        if body.get("cursor"):
            try:
                after = tuple(json.loads(base64.b64decode(body["cursor"])))
            except ValueError:
                return error(400, "PERMINTAAN_TIDAK_VALID", "cursor tidak valid")
            rows = [r for r in rows if (r[when], r[self.collection.key]) < after]
        page = rows[:limit]
        more = len(rows) > limit
        cursor = (
            base64.b64encode(
                json.dumps([page[-1][when], page[-1][self.collection.key]]).encode()
            ).decode()
            if more
            else None
        )
        return httpx.Response(
            200,
            json={
                "data": page,
                "next_cursor": cursor,
                "total": total if body.get("include_total") else None,
            },
        )

    def changes(self, params: httpx.QueryParams) -> httpx.Response:
        start = int(params.get("since") or 0)
        limit = int(params.get("limit", 100))
        chunk = self.feed[start : start + limit]
        end = start + len(chunk)
        return httpx.Response(
            200,
            json={
                "data": chunk,
                "next_cursor": str(end),
                "has_more": end < len(self.feed),
            },
        )

    def find(self, key: str) -> dict[str, Any] | None:
        return next((r for r in self.records if r[self.collection.key] == key), None)

    def set_status(self, key: str, body: dict[str, Any]) -> httpx.Response:
        record = self.find(key)
        if record is None:
            return error(404, "TIDAK_DITEMUKAN", f"{key} tidak ditemukan")
        if record["status"] in FINAL:
            return error(409, "TRANSISI_TIDAK_VALID", f"{record['status']} sudah final")
        now = (T0 + timedelta(days=30)).isoformat()
        record["status"] = body["status"]
        record["riwayat"].append(
            {
                "status": body["status"],
                "waktu": now,
                "catatan": body.get("catatan"),
                "petugas": body.get("petugas"),
            }
        )
        self.feed.append({"kunci": key, "waktu": now})
        return httpx.Response(200, json=record)

    def submit(self, body: dict[str, Any]) -> httpx.Response:
        if not body.get("judul"):
            return error(400, "PERMINTAAN_TIDAK_VALID", "judul wajib diisi")
        record = laporan(len(self.records) + 1000, nik=body.get("nik_pelapor"))
        record.update({k: v for k, v in body.items()})
        record.update(
            status="DITERIMA",
            no_tiket=f"LPR-2025-N{len(self.records):05d}",
            disposisi=[],
            tindak_lanjut=[],
        )
        self.records.append(record)
        self.feed.append({"kunci": record["no_tiket"], "waktu": record["tgl_lapor"]})
        return httpx.Response(201, json=record)


def day(value: str) -> date:
    return date.fromisoformat(value)
