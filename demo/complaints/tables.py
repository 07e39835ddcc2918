"""Storage of the complaint service: normalised tables in their own database.

Table names do not collide with the licensing service's, so both may share a database."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, Text

from demo.service_common.feed import feed_table, idempotency_table

TICKET = String(40)


@dataclass(frozen=True, slots=True)
class ComplaintTables:
    metadata: MetaData
    kategori: Table
    laporan: Table
    disposisi: Table
    tindak_lanjut: Table
    riwayat: Table
    perubahan: Table
    idempotensi: Table


def _child(md: MetaData, name: str, *columns: Column) -> Table:  # type: ignore[type-arg]
    return Table(
        name,
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("no_tiket", TICKET, ForeignKey("laporan.no_tiket"), nullable=False),
        *columns,
        Index(f"ix_{name}_tiket", "no_tiket", "id"),
    )


def complaint_tables() -> ComplaintTables:
    """A fresh MetaData with every table (no module-level state)."""
    md = MetaData()
    kategori = Table(
        "laporan_kategori",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),  # keeps the given order
        Column("nama", String(100), nullable=False, unique=True),
    )
    laporan = Table(
        "laporan",
        md,
        Column("no_tiket", TICKET, primary_key=True),
        Column("judul", String(200), nullable=False),
        Column("isi", Text, nullable=False),
        Column("klasifikasi", String(30), nullable=False),
        Column("kategori", String(100), nullable=False),
        Column("kode_kelurahan", String(10), nullable=False),
        Column("lokasi", String(200)),
        Column("kanal", String(30), nullable=False),
        Column("kerahasiaan", String(10), nullable=False),
        Column("nik_pelapor", String(16)),
        Column("tgl_lapor", DateTime, nullable=False),
        Column("status", String(30), nullable=False),
        Index("ix_laporan_waktu", "tgl_lapor", "no_tiket"),
        Index("ix_laporan_nik", "nik_pelapor", "tgl_lapor"),
        Index("ix_laporan_kelurahan", "kode_kelurahan", "tgl_lapor"),
        Index("ix_laporan_status", "status", "tgl_lapor"),
        Index("ix_laporan_kategori", "kategori", "tgl_lapor"),
    )
    disposisi = _child(
        md,
        "laporan_disposisi",
        Column("ke_unit", String(200), nullable=False),
        Column("waktu", DateTime, nullable=False),
        Column("catatan", Text),
    )
    tindak_lanjut = _child(
        md,
        "laporan_tindak_lanjut",
        Column("unit", String(200), nullable=False),
        Column("waktu", DateTime, nullable=False),
        Column("isi", Text, nullable=False),
    )
    riwayat = _child(
        md,
        "laporan_riwayat",
        Column("status", String(30), nullable=False),
        Column("waktu", DateTime, nullable=False),
        Column("catatan", Text),
        Column("petugas", String(100)),
    )
    return ComplaintTables(
        metadata=md,
        kategori=kategori,
        laporan=laporan,
        disposisi=disposisi,
        tindak_lanjut=tindak_lanjut,
        riwayat=riwayat,
        perubahan=feed_table(md, "pengaduan_perubahan"),
        idempotensi=idempotency_table(md, "pengaduan_idempotensi"),
    )
