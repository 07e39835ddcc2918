"""Endpoints of the licensing service (API.md, "Licensing service")."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.engine import RowMapping
from starlette.requests import Request
from starlette.responses import Response

from demo.licensing.tables import LicensingTables
from demo.licensing.workflow import FINAL_STATUSES, STATUSES
from demo.service_common.bodies import (
    KeyList,
    PeriodQuery,
    SearchBody,
    list_of,
    period_conditions,
)
from demo.service_common.collection import Child, Collection
from demo.service_common.endpoints import (
    key_conditions,
    one_response,
    search_response,
    stats_response,
)
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
    persyaratan = Child("persyaratan", t.persyaratan, "no_permohonan", ("kode", "nama", "terpenuhi", "diminta"))
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
    names = ("no_permohonan", "nik_pemohon", "kode_kelurahan", "status", "kode_jenis_izin")
    conditions = key_conditions(t.permohonan, body, names)
    if body.nama:
        conditions.append(
            or_(
                c.nama_pemohon.icontains(body.nama, autoescape=True),
                c.nama_perusahaan.icontains(body.nama, autoescape=True),
            )
        )
    conditions.extend(period_conditions(c.tgl_pengajuan, body.dari, body.sampai))
    return conditions


def finished_values(current: RowMapping, moment: Any) -> dict[str, Any]:
    """The first move to a final status sets `tgl_selesai`."""
    return {} if current["tgl_selesai"] is not None else {"tgl_selesai": moment}


class LicensingApi:
    def __init__(self, tables: LicensingTables) -> None:
        self.t = tables
        self.coll = permohonan_collection(tables)

    async def cari(self, request: Request) -> Response:
        return await search_response(request, self.coll, SearchPermohonan, lambda body: _conditions(self.t, body))

    async def ambil(self, request: Request) -> Response:
        return await one_response(request, self.coll, param="no_permohonan", noun="permohonan")

    async def statistik(self, request: Request) -> Response:
        return await stats_response(
            request,
            self.t.permohonan,
            StatistikQuery,
            time_column="tgl_pengajuan",
            lists=("kode_kelurahan", "kode_jenis_izin"),
            groups=[("jenis_izin", "kode_jenis_izin"), ("status", "status"), ("kelurahan", "kode_kelurahan")],
        )
