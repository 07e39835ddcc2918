"""`BIODATA_WNI`: one row per resident, with the columns and indexes of demo/API.md."""

from __future__ import annotations

from sqlalchemy import (
    CHAR,
    Column,
    Date,
    DateTime,
    Index,
    MetaData,
    SmallInteger,
    String,
    Table,
)

metadata = MetaData()

biodata_wni = Table(
    "BIODATA_WNI",
    metadata,
    Column("NIK", CHAR(16), primary_key=True),
    Column("NO_KK", CHAR(16), nullable=False),
    Column("NAMA_LGKP", String(100), nullable=False),
    Column("TMPT_LHR", String(60), nullable=False),
    Column("TGL_LHR", Date, nullable=False),
    Column("JENIS_KLMIN", SmallInteger, nullable=False),
    Column("GOL_DRH", SmallInteger, nullable=False),
    Column("AGAMA", SmallInteger, nullable=False),
    Column("STAT_KWN", SmallInteger, nullable=False),
    Column("STAT_HBKEL", SmallInteger, nullable=False),
    Column("PDDK_AKH", SmallInteger, nullable=False),
    Column("JENIS_PKRJN", SmallInteger, nullable=False),
    Column("NAMA_LGKP_IBU", String(100), nullable=False),
    Column("ALAMAT", String(200), nullable=False),
    Column("NO_RT", CHAR(3), nullable=False),
    Column("NO_RW", CHAR(3), nullable=False),
    Column("NO_PROP", CHAR(2), nullable=False),
    Column("NO_KAB", CHAR(2), nullable=False),
    Column("NO_KEC", CHAR(2), nullable=False),
    Column("NO_KEL", CHAR(4), nullable=False),
    Column("PNYDNG_CCT", String(60), nullable=True),
    Column("TGL_UBAH", DateTime, nullable=False),
)

# Created after the bulk load: building them once is faster than maintaining them per row.
INDEXES = (
    Index("IX_BIODATA_WNI_NO_KK", biodata_wni.c.NO_KK),
    Index(
        "IX_BIODATA_WNI_WILAYAH",
        biodata_wni.c.NO_PROP,
        biodata_wni.c.NO_KAB,
        biodata_wni.c.NO_KEC,
        biodata_wni.c.NO_KEL,
        biodata_wni.c.NIK,
    ),
    Index("IX_BIODATA_WNI_TGL_UBAH", biodata_wni.c.TGL_UBAH, biodata_wni.c.NIK),
    Index("IX_BIODATA_WNI_NAMA_LGKP", biodata_wni.c.NAMA_LGKP),
)

COLUMNS = tuple(c.name for c in biodata_wni.columns)
