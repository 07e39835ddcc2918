"""Reading the region file the generator works for."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from demo.generator.errors import RegionFileError
from demo.generator.people import generate_residents
from demo.generator.regions import load_region

REGION_FILE = Path(__file__).parents[2] / "hub" / "reference" / "regions.yaml"

OTHER_REGION = """
name: Kecamatan Contoh
city: Kabupaten Kampar
province: Riau
nik_region_prefixes: ["140601"]
kecamatan:
  - {code: "140601", name: Bangkinang Kota}
kelurahan:
  - {code: "1406011001", name: Langgini, kecamatan: Bangkinang Kota, share: 0.7}
  - {code: "1406011002", name: Bangkinang, kecamatan: Bangkinang Kota, share: 0.3}
"""


def test_the_shipped_region_file_loads_with_its_kelurahan():
    region = load_region(REGION_FILE)
    assert region.city_name == "Pekanbaru"
    assert len(region.kelurahan) == 10
    assert {k.kecamatan.name for k in region.kelurahan} == {"Binawidya", "Tuah Madani"}


def test_another_kecamatan_is_generated_from_its_own_region_file(tmp_path):
    path = tmp_path / "region.yaml"
    path.write_text(OTHER_REGION)
    rows = list(generate_residents(region=load_region(path), residents=200, seed=1,
                                   today=date(2026, 1, 5)))
    assert {r["NO_PROP"] + r["NO_KAB"] + r["NO_KEC"] for r in rows} == {"140601"}
    assert any(r["TMPT_LHR"] == "Kampar" for r in rows)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("name: [unclosed", id="not-yaml"),
        pytest.param("- a list", id="not-a-mapping"),
        pytest.param("name: X\nkecamatan: []\n", id="no-kelurahan-key"),
        pytest.param(OTHER_REGION.replace('"1406011001"', '"14060110"'), id="short-code"),
        pytest.param(OTHER_REGION.replace("kecamatan: Bangkinang Kota, share: 0.7",
                                          "kecamatan: Nowhere, share: 0.7"), id="unknown-kecamatan"),
        pytest.param(OTHER_REGION.replace('["140601"]', '["14"]'), id="bad-prefix"),
    ],
)
def test_a_bad_region_file_is_refused_with_a_code(tmp_path, content):
    path = tmp_path / "region.yaml"
    path.write_text(content)
    with pytest.raises(RegionFileError) as caught:
        load_region(path)
    assert caught.value.code == "REGION_FILE_INVALID"


def test_a_missing_region_file_is_refused_with_a_code(tmp_path):
    with pytest.raises(RegionFileError, match="cannot read"):
        load_region(tmp_path / "absent.yaml")
