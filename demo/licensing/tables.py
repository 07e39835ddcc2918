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
    persyaratan_izin: Table
    berkas: Table
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
        Column("kode", String(40)),  # the permit type's requirement (null in old records)
        Column("diminta", Boolean, nullable=False, default=False),  # an officer asked for it
        Index("ix_persyaratan_permohonan", "no_permohonan", "id"),
    )
    persyaratan_izin = Table(  # what each permit type asks for (requirements.py)
        "jenis_izin_persyaratan",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("kode_jenis_izin", String(20), ForeignKey("jenis_izin.kode"), nullable=False),
        Column("kode", String(40), nullable=False),
        Column("nama", String(200), nullable=False),
        Column("wajib", Boolean, nullable=False),
        Column("tipe", String(200), nullable=False),  # accepted media types, comma-separated
        Column("ukuran_maks", Integer, nullable=False),  # bytes
        Index("ux_persyaratan_izin", "kode_jenis_izin", "kode", unique=True),
    )
    berkas = Table(  # uploaded documents; the content is a file in the service's file store
        "permohonan_berkas",
        md,
        Column("id", String(32), primary_key=True),  # random: not guessable from another
        Column("no_permohonan", NUMBER, ForeignKey("permohonan.no_permohonan"), nullable=False),
        Column("kode_persyaratan", String(40), nullable=False),
        Column("nama_file", String(200), nullable=False),
        Column("tipe", String(100), nullable=False),
        Column("ukuran", Integer, nullable=False),
        Column("sha256", String(64), nullable=False),
        Column("diunggah", DateTime, nullable=False),
        Index("ix_berkas_permohonan", "no_permohonan", "kode_persyaratan"),
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
        persyaratan_izin=persyaratan_izin,
        berkas=berkas,
        perubahan=feed_table(md, "perizinan_perubahan"),
        idempotensi=idempotency_table(md, "perizinan_idempotensi"),
    )
