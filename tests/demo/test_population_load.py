"""The SIAK-style population database: BIODATA_WNI created and bulk-loaded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

from demo.generator.people import generate_residents
from demo.generator.regions import load_region
from demo.population import PopulationLoadError, biodata_wni, load_population
from tests.support.pg_database import postgres_database

REGION_FILE = Path(__file__).parents[2] / "hub" / "reference" / "regions.yaml"
TODAY = date(2026, 3, 2)
API_COLUMNS = [
    "NIK", "NO_KK", "NAMA_LGKP", "TMPT_LHR", "TGL_LHR", "JENIS_KLMIN", "GOL_DRH", "AGAMA",
    "STAT_KWN", "STAT_HBKEL", "PDDK_AKH", "JENIS_PKRJN", "NAMA_LGKP_IBU", "ALAMAT", "NO_RT",
    "NO_RW", "NO_PROP", "NO_KAB", "NO_KEC", "NO_KEL", "PNYDNG_CCT", "TGL_UBAH",
]
API_INDEXES = {
    ("NO_KK",), ("NO_PROP", "NO_KAB", "NO_KEC", "NO_KEL", "NIK"), ("TGL_UBAH", "NIK"),
    ("NAMA_LGKP",),
}


def _residents(count: int) -> list[dict]:
    region = load_region(REGION_FILE)
    return list(generate_residents(region=region, residents=count, seed=5, today=TODAY))


def _check_loaded(url: str, rows: list[dict]) -> None:
    engine = create_engine(url)
    try:
        schema = inspect(engine)
        assert [c["name"] for c in schema.get_columns("BIODATA_WNI")] == API_COLUMNS
        assert schema.get_pk_constraint("BIODATA_WNI")["constrained_columns"] == ["NIK"]
        assert {tuple(i["column_names"]) for i in schema.get_indexes("BIODATA_WNI")} == API_INDEXES
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(biodata_wni)) == len(rows)
            stored = conn.execute(select(biodata_wni).where(biodata_wni.c.NIK == rows[0]["NIK"])).one()
        assert stored._asdict() == rows[0]
    finally:
        engine.dispose()


def test_population_loads_into_a_sqlite_file_with_the_api_columns_and_indexes(tmp_path):
    rows = _residents(1200)
    url = f"sqlite:///{tmp_path / 'population.db'}"
    assert load_population(url, iter(rows)) == 1200
    _check_loaded(url, rows)


def test_loading_again_replaces_the_table(tmp_path):
    url = f"sqlite:///{tmp_path / 'population.db'}"
    load_population(url, _residents(300))
    rows = _residents(100)
    assert load_population(url, rows) == 100
    _check_loaded(url, rows)


def test_sqlite_file_is_left_in_rollback_journal_mode_for_read_only_readers(tmp_path):
    url = f"sqlite:///{tmp_path / 'population.db'}"
    load_population(url, _residents(50))
    engine = create_engine(f"sqlite:///file:{tmp_path / 'population.db'}?mode=ro&uri=true")
    with engine.connect() as conn:
        assert conn.scalar(text("PRAGMA journal_mode")) == "delete"
        assert conn.scalar(select(func.count()).select_from(biodata_wni)) == 50
    engine.dispose()


def test_a_bad_url_is_refused_with_a_code():
    with pytest.raises(PopulationLoadError) as caught:
        load_population("nosuchdb://x", [])
    assert caught.value.code == "POPULATION_LOAD_FAILED"


def test_an_unwritable_location_is_refused_with_a_code(tmp_path):
    with pytest.raises(PopulationLoadError, match="loading"):
        load_population(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'p.db'}", [])


def test_a_row_missing_a_column_is_refused_with_a_code(tmp_path):
    row = _residents(1)[0]
    del row["ALAMAT"]
    with pytest.raises(PopulationLoadError, match="ALAMAT"):
        load_population(f"sqlite:///{tmp_path / 'p.db'}", [row])


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with postgres_database("simpul_population", driver="psycopg") as url:
        yield url


@pytest.mark.postgres
def test_population_loads_into_postgresql(postgres_url):
    rows = _residents(1200)
    assert load_population(postgres_url, rows) == 1200
    _check_loaded(postgres_url, rows)
    assert load_population(postgres_url, rows[:10]) == 10  # drops and recreates
