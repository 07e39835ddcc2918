"""Endpoints of the licensing service (API.md, "Licensing service")."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from demo.licensing.tables import LicensingTables
from demo.licensing.workflow import FINAL_STATUSES, STATUSES, TRANSITIONS
from demo.service_common.bodies import (
    KeyList,
    PeriodQuery,
    SearchBody,
    StatusBody,
    list_of,
    parse_body,
    parse_query,
    period_conditions,
)
from demo.service_common.collection import Child, Collection, change_status, get_one, search
from demo.service_common.errors import JSONResponse, not_found
from demo.service_common.idempotency import fingerprint, idempotency_key, idempotent_write
from demo.service_common.stats_query import grouped_counts
from demo.service_common.timeutil import format_time

class SearchPermohonan(SearchBody):
    no_permohonan: KeyList | None = None
    nik_pemohon: KeyList | None = None
    kode_kelurahan: KeyList | None = None
    status: list_of(STATUSES) | None = None  # type: ignore[valid-type]
    kode_jenis_izin: KeyList | None = None
    nama: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None


class StatistikQuery(PeriodQuery):
    kode_kelurahan: KeyList | None = None
    kode_jenis_izin: KeyList | None = None


def _shape(row: RowMapping) -> dict[str, Any]:
    return {
        "no_permohonan": row["no_permohonan"],
        "jenis_pemohon": row["jenis_pemohon"],
        "nik_pemohon": row["nik_pemohon"],
        "nama_pemohon": row["nama_pemohon"],
        "nama_perusahaan": row["nama_perusahaan"],
        "kode_jenis_izin": row["kode_jenis_izin"],
        "nama_jenis_izin": row["nama_jenis_izin"],
        "sla_hari": row["sla_hari"],
        "jenis_permohonan": row["jenis_permohonan"],
        "tgl_pengajuan": format_time(row["tgl_pengajuan"]),
        "tgl_berkas_lengkap": format_time(row["tgl_berkas_lengkap"]),
        "kode_kelurahan": row["kode_kelurahan"],
        "alamat_usaha": row["alamat_usaha"],
        "status": row["status"],
        "persyaratan": [],
        "riwayat": [],
        "tgl_selesai": format_time(row["tgl_selesai"]),
    }


def permohonan_collection(t: LicensingTables) -> Collection:
    p, j = t.permohonan, t.jenis_izin
    base = select(
        p, j.c.nama.label("nama_jenis_izin"), j.c.sla_hari.label("sla_hari")
    ).join_from(p, j, p.c.kode_jenis_izin == j.c.kode)
    riwayat = Child(
        "riwayat",
        t.riwayat,
        "no_permohonan",
        ("status", "waktu", "catatan", "petugas"),
        times=frozenset({"waktu"}),
    )
    persyaratan = Child("persyaratan", t.persyaratan, "no_permohonan", ("nama", "terpenuhi"))
    return Collection(
        table=p,
        base=base,
        key="no_permohonan",
        time="tgl_pengajuan",
        shape=_shape,
        children=(persyaratan, riwayat),
        history=riwayat,
        feed=t.perubahan,
        final_statuses=FINAL_STATUSES,
    )


def _conditions(t: LicensingTables, body: SearchPermohonan) -> list[ColumnElement[bool]]:
    c = t.permohonan.c
    conditions: list[ColumnElement[bool]] = []
    for name in ("no_permohonan", "nik_pemohon", "kode_kelurahan", "status", "kode_jenis_izin"):
        values = getattr(body, name)
        if values is not None:
            conditions.append(c[name].in_(values))
    if body.nama:
        conditions.append(
            or_(
                c.nama_pemohon.icontains(body.nama, autoescape=True),
                c.nama_perusahaan.icontains(body.nama, autoescape=True),
            )
        )
    conditions.extend(period_conditions(c.tgl_pengajuan, body.dari, body.sampai))
    return conditions


class LicensingApi:
    def __init__(self, tables: LicensingTables) -> None:
        self.t = tables
        self.coll = permohonan_collection(tables)

    async def cari(self, request: Request) -> Response:
        body = await parse_body(request, SearchPermohonan)
        engine: AsyncEngine = request.state.engine
        async with engine.connect() as conn:
            page = await search(
                conn,
                self.coll,
                _conditions(self.t, body),
                limit=body.limit,
                cursor=body.cursor,
                include_total=body.include_total,
            )
        return JSONResponse(page)

    async def ambil(self, request: Request) -> Response:
        number = request.path_params["no_permohonan"]
        engine: AsyncEngine = request.state.engine
        async with engine.connect() as conn:
            record = await get_one(conn, self.coll, number)
        if record is None:
            raise not_found(f"permohonan {number} tidak ditemukan")
        return JSONResponse(record)

    async def ubah_status(self, request: Request) -> Response:
        number = request.path_params["no_permohonan"]
        body = await parse_body(request, StatusBody)
        key = idempotency_key(request)

        def finished(current: RowMapping, moment: Any) -> dict[str, Any]:
            return {} if current["tgl_selesai"] is not None else {"tgl_selesai": moment}

        async def action(conn: Any) -> tuple[int, Any]:
            record = await change_status(
                conn,
                self.coll,
                TRANSITIONS,
                key=number,
                status=body.status,
                history={"catatan": body.catatan, "petugas": body.petugas},
                on_final=finished,
            )
            return 200, record

        status_code, payload = await idempotent_write(
            request.state.engine,
            request.state.write_lock,
            self.t.idempotensi,
            key=key,
            sidik=fingerprint(request, body.model_dump(mode="json")),
            action=action,
        )
        return JSONResponse(payload, status_code=status_code)

    async def jenis_izin(self, request: Request) -> Response:
        j = self.t.jenis_izin
        engine: AsyncEngine = request.state.engine
        async with engine.connect() as conn:
            rows = (await conn.execute(select(j.c.kode, j.c.nama, j.c.sla_hari).order_by(j.c.kode))).all()
        return JSONResponse({"data": [{"kode": k, "nama": n, "sla_hari": s} for k, n, s in rows]})

    async def statistik(self, request: Request) -> Response:
        query = parse_query(request, StatistikQuery, lists=("kode_kelurahan", "kode_jenis_izin"))
        c = self.t.permohonan.c
        conditions = period_conditions(c.tgl_pengajuan, query.dari, query.sampai)
        if query.kode_kelurahan:
            conditions.append(c.kode_kelurahan.in_(query.kode_kelurahan))
        if query.kode_jenis_izin:
            conditions.append(c.kode_jenis_izin.in_(query.kode_jenis_izin))
        engine: AsyncEngine = request.state.engine
        async with engine.connect() as conn:
            counts = await grouped_counts(
                conn,
                self.t.permohonan,
                conditions,
                [("jenis_izin", "kode_jenis_izin"), ("status", "status"), ("kelurahan", "kode_kelurahan")],
            )
        return JSONResponse(counts)
