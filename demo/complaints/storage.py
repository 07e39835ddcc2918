"""Bulk loading of the complaint database (used by the data generator and the tests)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from demo.complaints.tables import ComplaintTables, complaint_tables
from demo.service_common.db import BatchInserter
from demo.service_common.loading import (
    LoadError,
    RowWriter,
    bulk_write,
    field,
    time_field,
)


def _complaint_rows(
    tables: ComplaintTables, item: Mapping[str, Any], inserter: BatchInserter
) -> datetime:
    """Queue the rows of one complaint; return the time of its latest change."""
    number = field(item, "no_tiket", "complaint")
    what = f"complaint {number!r}"
    reported = time_field(item, "tgl_lapor", what)
    assert reported is not None
    inserter.add(
        tables.laporan,
        {
            "no_tiket": number,
            "judul": field(item, "judul", what),
            "isi": item.get("isi") or "",
            "klasifikasi": field(item, "klasifikasi", what),
            "kategori": field(item, "kategori", what),
            "kode_kelurahan": field(item, "kode_kelurahan", what),
            "lokasi": item.get("lokasi"),
            "kanal": item.get("kanal", "WEBSITE"),
            "kerahasiaan": item.get("kerahasiaan", "PUBLIK"),
            "nik_pelapor": item.get("nik_pelapor"),
            "tgl_lapor": reported,
            "status": field(item, "status", what),
        },
    )
    latest = reported
    children = (
        (tables.disposisi, "disposisi", ("ke_unit", "catatan")),
        (tables.tindak_lanjut, "tindak_lanjut", ("unit", "isi")),
        (tables.riwayat, "riwayat", ("status", "catatan", "petugas")),
    )
    for table, name, columns in children:
        for entry in item.get(name) or ():
            moment = time_field(entry, "waktu", f"{what} {name}")
            assert moment is not None
            latest = max(latest, moment)
            row = {"no_tiket": number, "waktu": moment}
            row.update({column: entry.get(column) for column in columns})
            inserter.add(table, row)
    return latest


def _write(
    db_url: str,
    *,
    categories: Iterable[str],
    complaints: Iterable[Mapping[str, Any]],
    replace: bool,
) -> int:
    tables = complaint_tables()

    def prepare(conn: Connection) -> RowWriter:
        known = {name for (name,) in conn.execute(select(tables.kategori.c.nama))}
        new = [name for name in dict.fromkeys(categories) if name not in known]
        if new:
            conn.execute(tables.kategori.insert(), [{"nama": name} for name in new])
        known.update(new)

        def write(item: Mapping[str, Any], inserter: BatchInserter) -> tuple[datetime, str]:
            category = item.get("kategori")
            if isinstance(category, str) and category not in known:
                conn.execute(tables.kategori.insert(), [{"nama": category}])
                known.add(category)
            return _complaint_rows(tables, item, inserter), item["no_tiket"]

        return write

    return bulk_write(
        db_url,
        metadata=tables.metadata,
        feed=tables.perubahan,
        records=complaints,
        prepare=prepare,
        replace=replace,
    )


def load(
    db_url: str, *, categories: Iterable[str], complaints: Iterable[dict[str, Any]]
) -> int:
    """Drop and recreate the complaint tables, then insert everything; returns the
    number of complaints. Complaint dicts have the `laporan` shape of API.md (times as
    ISO strings); each also gets one change-feed entry."""
    return _write(db_url, categories=categories, complaints=complaints, replace=True)


def add_complaints(db_url: str, complaints: Iterable[dict[str, Any]]) -> int:
    """Insert more complaints into an existing database (tables created if absent)."""
    return _write(db_url, categories=(), complaints=complaints, replace=False)


__all__ = ["LoadError", "add_complaints", "load"]
