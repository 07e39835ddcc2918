"""build_demo_data and `python -m demo generate`: all three sources and the manifest."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from demo.build import build_demo_data, read_manifest
from demo.cli import main
from demo.generator.errors import GeneratorInputError, RegionFileError
from demo.population import biodata_wni

ROOT = Path(__file__).parents[2]
REGION_FILE = ROOT / "hub" / "reference" / "regions.yaml"
TODAY = date(2026, 3, 2)


def _population_count(path: Path) -> int:
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        count = conn.scalar(select(func.count()).select_from(biodata_wni))
    engine.dispose()
    return int(count)


def test_build_writes_all_three_sources_and_a_manifest(tmp_path):
    manifest = build_demo_data(tmp_path, residents=2500, region_file=REGION_FILE, seed=4,
                               today=TODAY)
    assert manifest["residents"] == 2500 == _population_count(tmp_path / "population.db")
    # two years at 103.7 applications and 17.6 complaints per 1,000 residents a year
    assert manifest["applications"] == 518 and manifest["complaints"] == 88
    assert 500 < manifest["families"] < 800
    assert manifest["seed"] == 4 and manifest["generation_date"] == "2026-03-02"
    assert read_manifest(tmp_path) == manifest
    assert (tmp_path / "licensing.db").stat().st_size > 0
    assert (tmp_path / "complaints.db").stat().st_size > 0


def test_built_applications_and_complaints_are_served_from_their_storage(tmp_path):
    build_demo_data(tmp_path, residents=1000, region_file=REGION_FILE, seed=4, today=TODAY)
    engine = create_engine(f"sqlite:///{tmp_path / 'licensing.db'}")
    with engine.connect() as conn:
        niks = {row[0] for row in conn.exec_driver_sql("SELECT nik_pemohon FROM permohonan")}
    engine.dispose()
    engine = create_engine(f"sqlite:///{tmp_path / 'population.db'}")
    with engine.connect() as conn:
        known = set(conn.scalars(select(biodata_wni.c.NIK).where(biodata_wni.c.NIK.in_(niks))))
    engine.dispose()
    assert len(niks) > 10 and niks == known


def test_counts_scale_with_the_number_of_residents(tmp_path):
    small = build_demo_data(tmp_path / "s", residents=1000, region_file=REGION_FILE, today=TODAY)
    large = build_demo_data(tmp_path / "l", residents=5000, region_file=REGION_FILE, today=TODAY)
    assert (small["applications"], small["complaints"]) == (207, 35)
    assert (large["applications"], large["complaints"]) == (1037, 176)
    assert 4 < large["families"] / small["families"] < 6


def test_build_loads_the_population_into_a_given_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    manifest = build_demo_data(tmp_path / "data", residents=300, region_file=REGION_FILE,
                               population_url=url, today=TODAY)
    assert _population_count(tmp_path / "elsewhere.db") == 300
    assert not (tmp_path / "data" / "population.db").exists()
    assert manifest["population_url"] == url


def test_a_build_that_fails_half_way_leaves_no_manifest(tmp_path, monkeypatch):
    build_demo_data(tmp_path, residents=200, region_file=REGION_FILE, today=TODAY)

    def broken(**_kwargs):
        raise GeneratorInputError("broken on purpose")

    monkeypatch.setattr("demo.build.generate_applications", broken)
    with pytest.raises(GeneratorInputError):
        build_demo_data(tmp_path, residents=300, region_file=REGION_FILE, today=TODAY)
    assert read_manifest(tmp_path) is None


def test_a_bad_region_file_is_refused_before_the_previous_build_is_touched(tmp_path):
    before = build_demo_data(tmp_path, residents=200, region_file=REGION_FILE, today=TODAY)
    with pytest.raises(RegionFileError):
        build_demo_data(tmp_path, residents=200, region_file=tmp_path / "absent.yaml", today=TODAY)
    assert read_manifest(tmp_path) == before
    assert _population_count(tmp_path / "population.db") == 200


def test_build_refuses_fewer_than_one_resident(tmp_path):
    with pytest.raises(GeneratorInputError):
        build_demo_data(tmp_path, residents=0, region_file=REGION_FILE)


def test_the_cli_prints_progress_and_the_manifest(tmp_path, capsys):
    code = main(["generate", "--data-dir", str(tmp_path), "--residents", "400",
                 "--region-file", str(REGION_FILE), "--seed", "3"])
    out, err = capsys.readouterr()
    assert code == 0
    assert json.loads(out)["residents"] == 400
    assert "population:" in err and "complaints:" in err


def test_the_cli_counts_each_step_in_json_lines_for_a_program(tmp_path, capsys):
    code = main(["generate", "--data-dir", str(tmp_path), "--residents", "1200",
                 "--region-file", str(REGION_FILE), "--seed", "3", "--progress", "json"])
    out, err = capsys.readouterr()
    assert code == 0 and json.loads(out)["residents"] == 1200
    events = [json.loads(line) for line in err.splitlines()]
    counts = [e for e in events if "step" in e]
    population = [(e["done"], e["total"]) for e in counts if e["step"] == "population"]
    assert population[0] == (0, 1200) and population[-1] == (1200, 1200)
    assert [d for d, _ in population] == sorted(d for d, _ in population)  # it only moves forward
    assert {e["step"] for e in counts} == {"population", "licensing", "complaints"}
    assert any(e.get("message", "").startswith("surveys:") for e in events)


def test_the_cli_reports_a_bad_region_file_with_a_code_and_no_traceback(tmp_path, capsys):
    bad = tmp_path / "region.yaml"
    bad.write_text("name: [")
    code = main(["generate", "--data-dir", str(tmp_path), "--residents", "10",
                 "--region-file", str(bad)])
    err = capsys.readouterr().err
    assert code == 2
    assert "REGION_FILE_INVALID" in err and "Traceback" not in err


def test_the_cli_refuses_a_non_positive_resident_count(tmp_path, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["generate", "--data-dir", str(tmp_path), "--residents", "0",
              "--region-file", str(REGION_FILE)])
    assert caught.value.code == 2
    assert "at least 1" in capsys.readouterr().err


def test_python_dash_m_demo_runs(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "demo", "generate", "--data-dir", str(tmp_path),
         "--residents", "150", "--region-file", str(REGION_FILE)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["residents"] == 150
