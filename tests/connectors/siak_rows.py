"""A handful of BIODATA_WNI rows (per demo/API.md) and helpers to load them into a database."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine

from connectors.population._table import build_table
from connectors.population.mapping import DEFAULT_MAPPING, PopulationMapping


DDL = """
CREATE TABLE "{table}" (
    "{nik}" CHAR(16) PRIMARY KEY,
    "NO_KK" CHAR(16) NOT NULL,
    "NAMA_LGKP" VARCHAR(100) NOT NULL,
    "TMPT_LHR" VARCHAR(60) NOT NULL,
    "TGL_LHR" DATE NOT NULL,
    "JENIS_KLMIN" SMALLINT NOT NULL,
    "GOL_DRH" SMALLINT,
    "AGAMA" SMALLINT NOT NULL,
    "STAT_KWN" SMALLINT NOT NULL,
    "STAT_HBKEL" SMALLINT NOT NULL,
    "PDDK_AKH" SMALLINT,
    "JENIS_PKRJN" SMALLINT,
    "NAMA_LGKP_IBU" VARCHAR(100) NOT NULL,
    "ALAMAT" VARCHAR(200) NOT NULL,
    "NO_RT" CHAR(3) NOT NULL,
    "NO_RW" CHAR(3) NOT NULL,
    "NO_PROP" CHAR(2) NOT NULL,
    "NO_KAB" CHAR(2) NOT NULL,
    "NO_KEC" CHAR(2) NOT NULL,
    "NO_KEL" CHAR(4) NOT NULL,
    "PNYDNG_CCT" VARCHAR(60),
    "TGL_UBAH" TIMESTAMP
)
"""


def _row(
    nik: str,
    kk: str,
    name: str,
    born: date,
    sex: int,
    rel: int,
    kel: str,
    changed: datetime,
    **extra: Any,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "nik": nik,
        "family_number": kk,
        "full_name": name,
        "birth_place": "Pekanbaru",
        "birth_date": born,
        "sex": sex,
        "blood_type": 11,
        "religion": 1,
        "marital_status": 2,
        "family_relationship": rel,
        "education": 5,
        "occupation": 14,
        "mother_name": "Ibu " + name.split()[0],
        "address": "Jl. Garuda Sakti Km 3",
        "rt": "004",
        "rw": "012",
        "province": kel[0:2],
        "regency": kel[2:4],
        "district": kel[4:6],
        "village": kel[6:10],
        "disability": None,
        "updated_at": changed,
    }
    row.update(extra)
    return row


T1 = datetime(2025, 1, 10, 9, 0, 0)
T2 = datetime(2025, 2, 1, 8, 30, 0)

ROWS: list[dict[str, Any]] = [
    _row(
        "1471081203800001",
        "1471080101100001",
        "Ahmad Fauzi",
        date(1980, 3, 12),
        1,
        1,
        "1471081001",
        T1,
    ),
    _row(
        "1471085507830002",
        "1471080101100001",
        "Siti Rahmawati",
        date(1983, 7, 15),
        2,
        3,
        "1471081001",
        T1,
        blood_type=13,
        occupation=2,
    ),
    _row(
        "1471082010100003",
        "1471080101100001",
        "Rizky Fauzi",
        date(2010, 10, 20),
        1,
        4,
        "1471081001",
        T2,
        marital_status=1,
        education=3,
        occupation=3,
        blood_type=None,
    ),
    _row(
        "1471084505150004",
        "1471080101100001",
        "Nur_Aini Fauzi",
        date(2015, 5, 5),
        2,
        4,
        "1471081001",
        datetime(2025, 2, 1, 8, 30, 0, 500),
        marital_status=1,
        education=None,
        occupation=None,
    ),
    _row(
        "1471080506700005",
        "1471080202200002",
        "Budi Santoso",
        date(1970, 6, 5),
        1,
        1,
        "1471081002",
        datetime(2024, 12, 31, 23, 59, 59),
        religion=2,
        marital_status=4,
        disability="Tunadaksa",
    ),
    _row(
        "1471081111950006",
        "1471080202200002",
        "Yohanes Santoso",
        date(1995, 11, 11),
        1,
        4,
        "1471081002",
        None,
        religion=3,
        marital_status=1,
    ),
    _row(
        "1471214408900007",
        "1471210303300003",
        "siti aminah",
        date(1990, 8, 4),
        2,
        1,
        "1471121001",
        datetime(2025, 3, 3, 10, 0, 0),
        marital_status=3,
    ),
    _row(
        "1471080101010008",
        "1471210303300003",
        "Data Rusak",
        date(2001, 1, 1),
        1,
        11,
        "1471121001",
        datetime(2025, 3, 4, 10, 0, 0),
        religion=9,
    ),
]

#: Rows the backends can map (the last one has an unknown AGAMA code).
VALID_NIKS = sorted(r["nik"] for r in ROWS if r["religion"] != 9)
BAD_NIK = "1471080101010008"


#: A view over the sample rows that takes seconds to answer (for timeout tests).
SLOW_VIEW = {
    "sqlite": """CREATE VIEW "SLOW_BIODATA" AS
        WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 30000000)
        SELECT b.* FROM "BIODATA_WNI" b WHERE (SELECT count(*) FROM n) > 0""",
    "postgresql": """CREATE VIEW "SLOW_BIODATA" AS
        SELECT b.* FROM "BIODATA_WNI" b CROSS JOIN pg_sleep(10)""",
}


async def load(
    url: str,
    rows: list[dict[str, Any]] = ROWS,
    mapping: PopulationMapping = DEFAULT_MAPPING,
) -> None:
    """Create the table for `mapping` at `url` and insert `rows` (logical keys)."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(DDL.format(table=mapping.table, nik=mapping.columns["nik"]))
            )
            await conn.execute(insert(build_table(mapping)), rows)
            if mapping == DEFAULT_MAPPING:
                await conn.execute(text(SLOW_VIEW[engine.dialect.name]))
    finally:
        await engine.dispose()


