"""Endpoints of the complaint service (API.md, "Complaint service")."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from pydantic import StringConstraints
from sqlalchemy import ColumnElement, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from demo.complaints.tables import ComplaintTables
from demo.complaints.workflow import (
    CHANNELS,
    CLASSIFICATIONS,
    FINAL_STATUSES,
    INITIAL_STATUS,
    STATUSES,
    TRANSITIONS,
    VISIBILITIES,
)
from demo.service_common.bodies import (
    KeyList,
    PeriodQuery,
    SearchBody,
    StrictBody,
    list_of,
    one_of,
    parse_body,
    period_conditions,
)
from demo.service_common.collection import Child, Collection, get_one
from demo.service_common.endpoints import (
    key_conditions,
    one_response,
    search_response,
    stats_response,
    status_response,
    write_response,
)
from demo.service_common.errors import JSONResponse, bad_request
from demo.service_common.feed import append_change
from demo.service_common.timeutil import format_time, now

TICKET_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
TICKET_RANDOM_CHARS = 6


class SearchLaporan(SearchBody):
    no_tiket: KeyList | None = None
    nik_pelapor: KeyList | None = None
    kode_kelurahan: KeyList | None = None
    status: list_of(STATUSES) | None = None  # type: ignore[valid-type]
    kategori: KeyList | None = None
    klasifikasi: list_of(CLASSIFICATIONS) | None = None  # type: ignore[valid-type]
    kerahasiaan: list_of(VISIBILITIES) | None = None  # type: ignore[valid-type]


Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class LaporanBaru(StrictBody):
    judul: Text200
    isi: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
    klasifikasi: one_of(CLASSIFICATIONS)  # type: ignore[valid-type]
    kategori: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    kode_kelurahan: Annotated[str, StringConstraints(pattern=r"^[0-9]{10}$")]
    lokasi: Text200 | None = None
    kanal: one_of(CHANNELS) = "WEBSITE"  # type: ignore[valid-type]
    kerahasiaan: one_of(VISIBILITIES) = "PUBLIK"  # type: ignore[valid-type]
    nik_pelapor: Annotated[str, StringConstraints(pattern=r"^[0-9]{16}$")] | None = None


class StatistikQuery(PeriodQuery):
    kode_kelurahan: KeyList | None = None
    kategori: KeyList | None = None


def _shape(row: RowMapping) -> dict[str, Any]:
    return {
        "no_tiket": row["no_tiket"],
        "judul": row["judul"],
        "isi": row["isi"],
        "klasifikasi": row["klasifikasi"],
        "kategori": row["kategori"],
        "kode_kelurahan": row["kode_kelurahan"],
        "lokasi": row["lokasi"],
        "kanal": row["kanal"],
        "kerahasiaan": row["kerahasiaan"],
        "nik_pelapor": row["nik_pelapor"],
        "tgl_lapor": format_time(row["tgl_lapor"]),
        "status": row["status"],
        "disposisi": [],
        "tindak_lanjut": [],
        "riwayat": [],
    }


def laporan_collection(t: ComplaintTables) -> Collection:
    times = frozenset({"waktu"})
    riwayat = Child("riwayat", t.riwayat, "no_tiket", ("status", "waktu", "catatan"), times)
    return Collection(
        table=t.laporan,
        base=select(t.laporan),
        key="no_tiket",
        time="tgl_lapor",
        shape=_shape,
        children=(
            Child("disposisi", t.disposisi, "no_tiket", ("ke_unit", "waktu", "catatan"), times),
            Child("tindak_lanjut", t.tindak_lanjut, "no_tiket", ("unit", "waktu", "isi"), times),
            riwayat,
        ),
        history=riwayat,
        feed=t.perubahan,
        final_statuses=FINAL_STATUSES,
    )


def _conditions(t: ComplaintTables, body: SearchLaporan) -> list[ColumnElement[bool]]:
    names = ("no_tiket", "nik_pelapor", "kode_kelurahan", "status", "kategori", "klasifikasi", "kerahasiaan")
    conditions = key_conditions(t.laporan, body, names)
    conditions.extend(period_conditions(t.laporan.c.tgl_lapor, body.dari, body.sampai))
    return conditions


def new_ticket_number(year: int) -> str:
    """`LPR-2025-3F9K2Q`: 30 random bits, not guessable from other numbers."""
    suffix = "".join(secrets.choice(TICKET_ALPHABET) for _ in range(TICKET_RANDOM_CHARS))
    return f"LPR-{year}-{suffix}"


class ComplaintsApi:
    def __init__(self, tables: ComplaintTables) -> None:
        self.t = tables
        self.coll = laporan_collection(tables)

    async def cari(self, request: Request) -> Response:
        return await search_response(request, self.coll, SearchLaporan, lambda body: _conditions(self.t, body))

    async def ambil(self, request: Request) -> Response:
        return await one_response(request, self.coll, param="no_tiket", noun="laporan")

    async def _insert(self, conn: AsyncConnection, body: LaporanBaru) -> dict[str, Any]:
        t = self.t
        categories = [name for (name,) in await conn.execute(select(t.kategori.c.nama))]
        if categories and body.kategori not in categories:
            raise bad_request(f"kategori tidak dikenal: {body.kategori}")
        moment = now()
        for _ in range(10):
            number = new_ticket_number(moment.year)
            taken = await conn.execute(select(t.laporan.c.no_tiket).where(t.laporan.c.no_tiket == number))
            if taken.first() is None:
                break
        else:  # pragma: no cover - 2**30 numbers a year
            raise RuntimeError("no free ticket number")
        await conn.execute(
            t.laporan.insert().values(
                no_tiket=number, tgl_lapor=moment, status=INITIAL_STATUS, **body.model_dump()
            )
        )
        await conn.execute(
            t.riwayat.insert().values(no_tiket=number, status=INITIAL_STATUS, waktu=moment)
        )
        await append_change(conn, t.perubahan, number, moment)
        record = await get_one(conn, self.coll, number)
        assert record is not None
        return record

    async def kirim(self, request: Request) -> Response:
        body = await parse_body(request, LaporanBaru)

        async def action(conn: AsyncConnection) -> tuple[int, Any]:
            return 201, await self._insert(conn, body)

        return await write_response(request, self.t.idempotensi, body, action)

    async def ubah_status(self, request: Request) -> Response:
        return await status_response(request, self.coll, TRANSITIONS, self.t.idempotensi, param="no_tiket")

    async def kategori(self, request: Request) -> Response:
        k = self.t.kategori
        engine: AsyncEngine = request.state.engine
        async with engine.connect() as conn:
            names = [name for (name,) in await conn.execute(select(k.c.nama).order_by(k.c.id))]
        return JSONResponse({"data": names})

    async def statistik(self, request: Request) -> Response:
        return await stats_response(
            request,
            self.t.laporan,
            StatistikQuery,
            time_column="tgl_lapor",
            lists=("kode_kelurahan", "kategori"),
            groups=[
                ("kategori", "kategori"),
                ("status", "status"),
                ("klasifikasi", "klasifikasi"),
                ("kerahasiaan", "kerahasiaan"),
                ("kelurahan", "kode_kelurahan"),
            ],
        )
