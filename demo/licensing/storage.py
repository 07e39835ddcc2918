"""Bulk loading of the licensing database (used by the data generator and the tests)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from demo.licensing.requirements import requirement_code
from demo.licensing.tables import LicensingTables, licensing_tables
from demo.service_common.db import BatchInserter
from demo.service_common.loading import (
    LoadError,
    RowWriter,
    bulk_write,
    field,
    time_field,
)


def _permit_type_row(item: Mapping[str, Any]) -> dict[str, Any]:
    what = f"permit type {item.get('kode')!r}"
    return {
        "kode": field(item, "kode", what),
        "nama": field(item, "nama", what),
        "sla_hari": int(field(item, "sla_hari", what)),
    }


def _requirement_rows(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The `persyaratan` of one permit type (requirements.py shape) as table rows."""
    what = f"requirement of permit type {item.get('kode')!r}"
    return [
        {
            "kode_jenis_izin": item["kode"],
            "kode": field(req, "kode", what),
            "nama": field(req, "nama", what),
            "wajib": bool(req.get("wajib", True)),
            "tipe": ",".join(field(req, "tipe", what)),
            "ukuran_maks": int(field(req, "ukuran_maks", what)),
        }
        for req in item.get("persyaratan") or ()
    ]


def _application_rows(
    tables: LicensingTables, app: Mapping[str, Any], inserter: BatchInserter
) -> datetime:
    """Queue the rows of one application; return the time of its latest change."""
    number = field(app, "no_permohonan", "application")
    what = f"application {number!r}"
    received = time_field(app, "tgl_pengajuan", what)
    assert received is not None
    inserter.add(
        tables.permohonan,
        {
            "no_permohonan": number,
            "jenis_pemohon": app.get("jenis_pemohon", "PERORANGAN"),
            "nik_pemohon": app.get("nik_pemohon"),
            "nama_pemohon": field(app, "nama_pemohon", what),
            "nama_perusahaan": app.get("nama_perusahaan"),
            "kode_jenis_izin": field(app, "kode_jenis_izin", what),
            "jenis_permohonan": app.get("jenis_permohonan", "BARU"),
            "tgl_pengajuan": received,
            "tgl_berkas_lengkap": time_field(app, "tgl_berkas_lengkap", what, required=False),
            "kode_kelurahan": field(app, "kode_kelurahan", what),
            "alamat_usaha": app.get("alamat_usaha"),
            "status": field(app, "status", what),
            "tgl_selesai": time_field(app, "tgl_selesai", what, required=False),
        },
    )
    for item in app.get("persyaratan") or ():
        inserter.add(
            tables.persyaratan,
            {
                "no_permohonan": number,
                "nama": field(item, "nama", what),
                "terpenuhi": bool(item.get("terpenuhi", False)),
                "kode": item.get("kode") or requirement_code(field(item, "nama", what)),
                "diminta": bool(item.get("diminta", False)),
            },
        )
    latest = received
    for step in app.get("riwayat") or ():
        moment = time_field(step, "waktu", what)
        assert moment is not None
        latest = max(latest, moment)
        inserter.add(
            tables.riwayat,
            {
                "no_permohonan": number,
                "status": field(step, "status", what),
                "waktu": moment,
                "catatan": step.get("catatan"),
                "petugas": step.get("petugas"),
            },
        )
    return latest


def _write(
    db_url: str,
    *,
    permit_types: Iterable[Mapping[str, Any]],
    applications: Iterable[Mapping[str, Any]],
    replace: bool,
) -> int:
    tables = licensing_tables()
    permit_types = list(permit_types)

    def prepare(conn: Connection) -> RowWriter:
        known = {row.kode for row in conn.execute(select(tables.jenis_izin.c.kode))}
        types = [_permit_type_row(item) for item in permit_types]
        new_types = [row for row in types if row["kode"] not in known]
        if new_types:
            conn.execute(tables.jenis_izin.insert(), new_types)
            fresh = {row["kode"] for row in new_types}
            wanted = [r for item in permit_types if item.get("kode") in fresh for r in _requirement_rows(item)]
            if wanted:
                conn.execute(tables.persyaratan_izin.insert(), wanted)
        known |= {row["kode"] for row in new_types}

        def write(app: Mapping[str, Any], inserter: BatchInserter) -> tuple[datetime, str]:
            code = app.get("kode_jenis_izin")
            if code is not None and code not in known:  # a type only the record names
                row = {
                    "kode": code,
                    "nama": app.get("nama_jenis_izin") or code,
                    "sla_hari": int(app.get("sla_hari") or 0),
                }
                conn.execute(tables.jenis_izin.insert(), [row])
                known.add(code)
            return _application_rows(tables, app, inserter), app["no_permohonan"]

        return write

    return bulk_write(
        db_url,
        metadata=tables.metadata,
        feed=tables.perubahan,
        records=applications,
        prepare=prepare,
        replace=replace,
    )


def load(
    db_url: str,
    *,
    permit_types: Iterable[dict[str, Any]],
    applications: Iterable[dict[str, Any]],
) -> int:
    """Drop and recreate the licensing tables, then insert everything; returns the
    number of applications. Application dicts have the `permohonan` shape of API.md
    (times as ISO strings); each also gets one change-feed entry."""
    return _write(db_url, permit_types=permit_types, applications=applications, replace=True)


def add_applications(db_url: str, applications: Iterable[dict[str, Any]]) -> int:
    """Insert more applications into an existing database (tables created if absent)."""
    return _write(db_url, permit_types=(), applications=applications, replace=False)


__all__ = ["LoadError", "add_applications", "load"]
