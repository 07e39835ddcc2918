"""The mapped population table (SQLAlchemy Core) and row → `CitizenRecord`.

Columns get the logical field name as their `key`, so queries read
``table.c.nik`` whatever the replica calls the column.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import Column, Date, DateTime, MetaData, SmallInteger, String, Table

from connectors._support import aware
from connectors.population import codes
from connectors.population.mapping import PopulationMapping
from connectors.records import CitizenRecord

_TYPES: dict[str, Any] = {
    "birth_date": Date,
    "updated_at": DateTime,
    "sex": SmallInteger,
    "blood_type": SmallInteger,
    "religion": SmallInteger,
    "marital_status": SmallInteger,
    "family_relationship": SmallInteger,
    "education": SmallInteger,
    "occupation": SmallInteger,
}


def build_table(mapping: PopulationMapping) -> Table:
    columns = [
        Column(name, _TYPES.get(key, String), key=key, primary_key=key == "nik")
        for key, name in mapping.columns.items()
        if name is not None
    ]
    return Table(mapping.table, MetaData(), *columns, schema=mapping.schema)


def _text(value: object) -> str:
    if value.__class__ is str:  # as most replicas store it: no str() call per column
        return value.strip()  # type: ignore[attr-defined]
    return "" if value is None else str(value).strip()


def _padded(value: object, width: int) -> str:
    return _text(value).zfill(width)


def row_to_citizen(row: Mapping[str, Any], tz: tzinfo) -> CitizenRecord:
    """Map one row keyed by logical field; `codes.UnknownCode` if a code is unknown."""
    birth_date = row["birth_date"]
    if isinstance(birth_date, datetime):
        birth_date = birth_date.date()
    elif isinstance(birth_date, str):
        birth_date = date.fromisoformat(birth_date[:10])
    updated_at = row["updated_at"]
    if isinstance(updated_at, str):
        updated_at = datetime.fromisoformat(updated_at)
    return CitizenRecord(
        nik=_text(row["nik"]),
        family_number=_text(row["family_number"]),
        full_name=_text(row["full_name"]),
        birth_place=_text(row["birth_place"]),
        birth_date=birth_date,
        sex=codes.decode("JENIS_KLMIN", codes.JENIS_KLMIN, row["sex"]),
        blood_type=(
            None
            if row["blood_type"] is None
            else codes.decode("GOL_DRH", codes.GOL_DRH, row["blood_type"])
        ),
        religion=codes.decode("AGAMA", codes.AGAMA, row["religion"]),
        marital_status=codes.decode("STAT_KWN", codes.STAT_KWN, row["marital_status"]),
        family_relationship=codes.decode(
            "STAT_HBKEL", codes.STAT_HBKEL, row["family_relationship"]
        ),
        education=codes.decode_optional("PDDK_AKH", codes.PDDK_AKH, row["education"]),
        occupation=codes.decode_optional(
            "JENIS_PKRJN", codes.JENIS_PKRJN, row["occupation"]
        ),
        mother_name=_text(row["mother_name"]),
        address=_text(row["address"]),
        rt=_padded(row["rt"], 3),
        rw=_padded(row["rw"], 3),
        kelurahan_code=(
            _padded(row["province"], 2)
            + _padded(row["regency"], 2)
            + _padded(row["district"], 2)
            + _padded(row["village"], 4)
        ),
        disability=row.get("disability") or None,
        updated_at=None if updated_at is None else aware(updated_at, tz),
    )
