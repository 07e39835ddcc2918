"""Column mapping: a replica with other names needs configuration, not code."""

from __future__ import annotations

import pytest
from tests.connectors.siak_rows import ROWS, load

from connectors.population.mapping import (
    DEFAULT_COLUMNS,
    DEFAULT_MAPPING,
    PopulationMapping,
)
from connectors.population.sql import SqlPopulationSource
from connectors.records import CitizenFilter, PageRequest


def test_default_mapping_is_the_biodata_wni_layout() -> None:
    assert DEFAULT_MAPPING.table == "BIODATA_WNI"
    assert DEFAULT_MAPPING.columns["nik"] == "NIK"
    assert DEFAULT_MAPPING.columns["updated_at"] == "TGL_UBAH"


def test_from_dict_renames_only_the_named_columns() -> None:
    mapping = PopulationMapping.from_dict(
        {"table": "V_PENDUDUK", "columns": {"nik": "NIK_PENDUDUK"}}
    )
    assert mapping.table == "V_PENDUDUK"
    assert mapping.columns["nik"] == "NIK_PENDUDUK"
    assert mapping.columns["full_name"] == "NAMA_LGKP"
    assert PopulationMapping.from_dict({}) == DEFAULT_MAPPING


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param({"tabel": "X"}, "unknown key.*tabel", id="unknown-top-level-key"),
        pytest.param(
            {"columns": {"nama": "X"}}, "unknown column key.*nama", id="unknown-column"
        ),
        pytest.param({"columns": {"nik": ""}}, "columns.nik", id="empty-name"),
        pytest.param(
            {"columns": {"nik": None}}, "columns.nik", id="required-column-removed"
        ),
        pytest.param(
            {"columns": {"nik": "NO_KK"}}, "NO_KK mapped twice", id="duplicate"
        ),
        pytest.param({"table": 5}, "table", id="table-not-text"),
        pytest.param(
            {"columns": ["nik"]},
            "'columns' must be a mapping",
            id="columns-not-mapping",
        ),
        pytest.param("BIODATA_WNI", "must be a mapping", id="not-a-mapping"),
    ],
)
def test_bad_mapping_configuration_is_refused_with_a_clear_message(
    data, message
) -> None:
    with pytest.raises(ValueError, match=message):
        PopulationMapping.from_dict(data)


def test_every_logical_field_has_a_default_column() -> None:
    assert len(set(DEFAULT_COLUMNS.values())) == len(DEFAULT_COLUMNS) == 22


async def test_a_renamed_table_and_column_read_the_same_citizens(
    tmp_path, sqlite_url
) -> None:
    mapping = PopulationMapping.from_dict(
        {"table": "V_PENDUDUK", "columns": {"nik": "NIK_PENDUDUK"}}
    )
    path = tmp_path / "replica.db"
    await load(f"sqlite+aiosqlite:///{path}", mapping=mapping)
    renamed = SqlPopulationSource(f"sqlite:///{path}", mapping=mapping)
    default = SqlPopulationSource(sqlite_url)
    try:
        niks = [r["nik"] for r in ROWS]
        assert await renamed.citizens_by_nik(niks) == await default.citizens_by_nik(
            niks
        )
        flt = CitizenFilter(kelurahan_codes=("1471081001",), name_contains="fauzi")
        page = await renamed.list_citizens(flt, PageRequest(first=2))
        assert page == await default.list_citizens(flt, PageRequest(first=2))
        assert len(page.items) == 2 and page.has_next
    finally:
        await renamed.aclose()
        await default.aclose()


async def test_a_replica_without_a_disability_column_reads_none(tmp_path) -> None:
    path = tmp_path / "nodisability.db"
    await load(f"sqlite+aiosqlite:///{path}")
    mapping = PopulationMapping.from_dict({"columns": {"disability": None}})
    source = SqlPopulationSource(f"sqlite:///{path}", mapping=mapping)
    try:
        found = await source.citizens_by_nik(["1471080506700005"])
    finally:
        await source.aclose()
    assert found["1471080506700005"].disability is None
