"""Storage of the licensing service: normalised tables in their own database.

Table names do not collide with the complaint service's, so both may share a database."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from demo.service_common.feed import feed_table, idempotency_table

NUMBER = String(60)


@dataclass(frozen=True, slots=True)
class LicensingTables:
    metadata: MetaData
    jenis_izin: Table
    permohonan: Table
    persyaratan: Table
    riwayat: Table
    perubahan: Table
    idempotensi: Table


def licensing_tables() -> LicensingTables:
    """A fresh MetaData with every table (no module-level state)."""
    md = MetaData()
    jenis_izin = Table(
        "jenis_izin",
        md,
        Column("kode", String(20), primary_key=True),
        Column("nama", String(200), nullable=False),
        Column("sla_hari", Integer, nullable=False),
    )
    permohonan = Table(
        "permohonan",
        md,
        Column("no_permohonan", NUMBER, primary_key=True),
        Column("jenis_pemohon", String(20), nullable=False),
        Column("nik_pemohon", String(16)),
        Column("nama_pemohon", String(100), nullable=False),
        Column("nama_perusahaan", String(200)),
        Column("kode_jenis_izin", String(20), ForeignKey("jenis_izin.kode"), nullable=False),
        Column("jenis_permohonan", String(20), nullable=False),
        Column("tgl_pengajuan", DateTime, nullable=False),
        Column("tgl_berkas_lengkap", DateTime),
        Column("kode_kelurahan", String(10), nullable=False),
        Column("alamat_usaha", String(200)),
        Column("status", String(30), nullable=False),
        Column("tgl_selesai", DateTime),
        Index("ix_permohonan_waktu", "tgl_pengajuan", "no_permohonan"),
        Index("ix_permohonan_nik", "nik_pemohon", "tgl_pengajuan"),
        Index("ix_permohonan_kelurahan", "kode_kelurahan", "tgl_pengajuan"),
        Index("ix_permohonan_status", "status", "tgl_pengajuan"),
        Index("ix_permohonan_jenis", "kode_jenis_izin", "tgl_pengajuan"),
    )
    persyaratan = Table(
        "permohonan_persyaratan",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("no_permohonan", NUMBER, ForeignKey("permohonan.no_permohonan"), nullable=False),
        Column("nama", String(200), nullable=False),
        Column("terpenuhi", Boolean, nullable=False),
        Index("ix_persyaratan_permohonan", "no_permohonan", "id"),
    )
    riwayat = Table(
        "permohonan_riwayat",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("no_permohonan", NUMBER, ForeignKey("permohonan.no_permohonan"), nullable=False),
        Column("status", String(30), nullable=False),
        Column("waktu", DateTime, nullable=False),
        Column("catatan", Text),
        Column("petugas", String(100)),
        Index("ix_riwayat_permohonan", "no_permohonan", "id"),
    )
    return LicensingTables(
        metadata=md,
        jenis_izin=jenis_izin,
        permohonan=permohonan,
        persyaratan=persyaratan,
        riwayat=riwayat,
        perubahan=feed_table(md, "perizinan_perubahan"),
        idempotensi=idempotency_table(md, "perizinan_idempotensi"),
    )
