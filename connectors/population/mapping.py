"""Where each population field lives in the source database.

`DEFAULT_MAPPING` is the `BIODATA_WNI` layout of demo/API.md. A real SIAK replica
with other names (or a view joining `DATA_KELUARGA`) is mapped by configuration::

    PopulationMapping.from_dict({"table": "V_PENDUDUK", "columns": {"nik": "NIK_PENDUDUK"}})

Columns not named keep their default names. `disability` may be mapped to ``None``
when the replica has no such column (the records then carry ``None``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

#: Logical field → default column (BIODATA_WNI). The kelurahan code is four columns.
DEFAULT_COLUMNS: dict[str, str] = {
    "nik": "NIK",
    "family_number": "NO_KK",
    "full_name": "NAMA_LGKP",
    "birth_place": "TMPT_LHR",
    "birth_date": "TGL_LHR",
    "sex": "JENIS_KLMIN",
    "blood_type": "GOL_DRH",
    "religion": "AGAMA",
    "marital_status": "STAT_KWN",
    "family_relationship": "STAT_HBKEL",
    "education": "PDDK_AKH",
    "occupation": "JENIS_PKRJN",
    "mother_name": "NAMA_LGKP_IBU",
    "address": "ALAMAT",
    "rt": "NO_RT",
    "rw": "NO_RW",
    "province": "NO_PROP",
    "regency": "NO_KAB",
    "district": "NO_KEC",
    "village": "NO_KEL",
    "disability": "PNYDNG_CCT",
    "updated_at": "TGL_UBAH",
}

#: Logical fields that may be mapped to None (the replica lacks the column).
OPTIONAL_COLUMNS = frozenset({"disability"})


@dataclass(frozen=True, slots=True)
class PopulationMapping:
    table: str = "BIODATA_WNI"
    schema: str | None = None
    columns: Mapping[str, str | None] = field(
        default_factory=lambda: dict(DEFAULT_COLUMNS)
    )

    def __post_init__(self) -> None:
        _check_name("table", self.table)
        if self.schema is not None:
            _check_name("schema", self.schema)
        unknown = sorted(set(self.columns) - set(DEFAULT_COLUMNS))
        if unknown:
            raise ValueError(
                f"population mapping: unknown column key(s) {', '.join(unknown)}; "
                f"known keys: {', '.join(DEFAULT_COLUMNS)}"
            )
        missing = sorted(set(DEFAULT_COLUMNS) - set(self.columns))
        if missing:
            raise ValueError(f"population mapping: no column for {', '.join(missing)}")
        for key, name in self.columns.items():
            if name is None and key in OPTIONAL_COLUMNS:
                continue
            _check_name(f"columns.{key}", name)
        named = [name for name in self.columns.values() if name is not None]
        duplicates = sorted({name for name in named if named.count(name) > 1})
        if duplicates:
            raise ValueError(
                f"population mapping: column(s) {', '.join(duplicates)} mapped twice"
            )

    def column(self, key: str) -> str | None:
        return self.columns[key]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PopulationMapping:
        """Build from configuration: ``{"table": ..., "schema": ..., "columns": {...}}``.

        Every key is optional; unknown keys raise `ValueError` naming them.
        """
        if not isinstance(data, Mapping):
            raise ValueError("population mapping must be a mapping")  # noqa: TRY004 (configuration errors are ValueError)
        allowed = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ValueError(
                f"population mapping: unknown key(s) {', '.join(map(str, unknown))}; "
                f"known keys: {', '.join(sorted(allowed))}"
            )
        columns = data.get("columns", {})
        if not isinstance(columns, Mapping):
            raise ValueError("population mapping: 'columns' must be a mapping")  # noqa: TRY004 (configuration errors are ValueError)
        merged: dict[str, str | None] = dict(DEFAULT_COLUMNS)
        merged.update(columns)
        base = cls()
        return replace(
            base,
            table=data.get("table", base.table),
            schema=data.get("schema", base.schema),
            columns=merged,
        )


def _check_name(what: str, name: object) -> None:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"population mapping: {what} must be a non-empty string")


DEFAULT_MAPPING = PopulationMapping()
