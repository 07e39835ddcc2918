"""Residents and families as generated for the population registry."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest

from demo.generator.nik import nik_agrees, parse_nik
from demo.generator.people import generate_families, generate_residents
from demo.generator.regions import Region, load_region

REGION_FILE = Path(__file__).parents[2] / "hub" / "reference" / "regions.yaml"
TODAY = date(2026, 3, 2)


@pytest.fixture(scope="module")
def region() -> Region:
    return load_region(REGION_FILE)


@pytest.fixture(scope="module")
def families(region: Region) -> list[list[dict]]:
    return list(generate_families(region=region, residents=4000, seed=7, today=TODAY))


@pytest.fixture(scope="module")
def residents(families: list[list[dict]]) -> list[dict]:
    return [row for family in families for row in family]


def _age(birth: date) -> int:
    return TODAY.year - birth.year - ((TODAY.month, TODAY.day) < (birth.month, birth.day))


def test_exactly_the_requested_number_of_residents_is_generated(residents):
    assert len(residents) == 4000


def test_every_nik_is_valid_and_agrees_with_birth_date_and_sex(residents):
    for row in residents:
        parts = parse_nik(row["NIK"])
        assert parts.serial >= 1
        assert nik_agrees(row["NIK"], row["TGL_LHR"], row["JENIS_KLMIN"]), row


def test_women_have_forty_added_to_the_nik_day(residents):
    women = [r for r in residents if r["JENIS_KLMIN"] == 2]
    assert women and all(int(r["NIK"][6:8]) == r["TGL_LHR"].day + 40 for r in women)


def test_niks_and_family_numbers_are_unique(families, residents):
    assert len({r["NIK"] for r in residents}) == len(residents)
    assert len({f[0]["NO_KK"] for f in families}) == len(families)


def test_nik_serials_count_from_one_per_region_and_birth_date(residents):
    serials = defaultdict(list)
    for row in residents:
        serials[row["NIK"][:12]].append(int(row["NIK"][12:]))
    for stem, found in serials.items():
        assert sorted(found) == list(range(1, len(found) + 1)), stem


def test_most_niks_carry_the_region_prefix_and_some_come_from_elsewhere(region, residents):
    local_codes = set(region.nik_region_prefixes) | {k.kecamatan.code for k in region.kelurahan}
    local = sum(r["NIK"][:6] in local_codes for r in residents) / len(residents)
    assert 0.5 < local < 0.95


def test_family_number_starts_with_a_kecamatan_code_and_an_issue_date(region, families):
    codes = set(region.nik_region_prefixes) | {k.kecamatan.code for k in region.kelurahan}
    for family in families:
        kk = family[0]["NO_KK"]
        assert len(kk) == 16 and kk.isdigit() and kk[:6] in codes
        date(2000 + int(kk[10:12]), int(kk[8:10]), int(kk[6:8]))  # a real date


def test_every_family_has_exactly_one_head_listed_first(families):
    for family in families:
        assert [r["STAT_HBKEL"] for r in family].count(1) == 1
        assert family[0]["STAT_HBKEL"] == 1


def test_family_members_share_card_address_rt_rw_and_kelurahan(families):
    keys = ("NO_KK", "ALAMAT", "NO_RT", "NO_RW", "NO_PROP", "NO_KAB", "NO_KEC", "NO_KEL")
    for family in families:
        assert len({tuple(r[k] for k in keys) for r in family}) == 1


def test_kelurahan_come_from_the_region_file_weighted_by_share(region, residents):
    counts = Counter(f"{r['NO_PROP']}{r['NO_KAB']}{r['NO_KEC']}{r['NO_KEL']}" for r in residents)
    assert set(counts) == {k.code for k in region.kelurahan}
    biggest = max(region.kelurahan, key=lambda k: k.share).code
    smallest = min(region.kelurahan, key=lambda k: k.share).code
    assert counts[biggest] > counts[smallest]


def test_average_family_size_is_realistic(families, residents):
    assert 3.3 <= len(residents) / len(families) <= 4.2


def test_children_are_younger_than_heads_and_spouses_and_parents_older(families):
    for family in families:
        parents = [r for r in family if r["STAT_HBKEL"] in (1, 2, 3)]
        youngest_parent = max(r["TGL_LHR"] for r in parents)
        for row in family:
            if row["STAT_HBKEL"] == 4:
                assert _age(row["TGL_LHR"]) <= _age(youngest_parent) - 15, family
            if row["STAT_HBKEL"] in (7, 8):
                assert row["TGL_LHR"] < family[0]["TGL_LHR"]


def test_marital_status_fits_relationship_and_age(residents):
    for row in residents:
        if row["STAT_HBKEL"] in (2, 3, 5):
            assert row["STAT_KWN"] == 2
        if _age(row["TGL_LHR"]) < 17:
            assert row["STAT_KWN"] == 1


def test_education_and_occupation_fit_age(residents):
    for row in residents:
        age = _age(row["TGL_LHR"])
        if age < 5:
            assert row["PDDK_AKH"] == 1 and row["JENIS_PKRJN"] == 1
        if age < 22:
            assert row["PDDK_AKH"] <= 7
        if row["JENIS_PKRJN"] in (18, 19, 20):  # teacher, lecturer, doctor
            assert row["PDDK_AKH"] >= 8
        if row["JENIS_PKRJN"] == 4:  # retired
            assert age >= 58


def test_religion_is_mostly_islam_with_minorities(residents):
    counts = Counter(r["AGAMA"] for r in residents)
    assert counts[1] / len(residents) > 0.75
    assert counts[2] + counts[3] + counts[5] > 0


def test_codes_are_within_the_siak_tables(residents):
    for row in residents:
        assert 1 <= row["GOL_DRH"] <= 13 and 1 <= row["AGAMA"] <= 7
        assert 1 <= row["STAT_KWN"] <= 4 and 1 <= row["STAT_HBKEL"] <= 11
        assert 1 <= row["PDDK_AKH"] <= 10 and 1 <= row["JENIS_PKRJN"] <= 26
        assert len(row["NO_RT"]) == 3 and len(row["NO_RW"]) == 3
        assert row["ALAMAT"].split(" ")[0] in ("Jl.", "Gg.") and " No. " in row["ALAMAT"]
        assert row["TGL_LHR"] <= TODAY and row["TGL_UBAH"].date() <= TODAY


def test_a_small_share_has_a_disability(residents):
    share = sum(r["PNYDNG_CCT"] is not None for r in residents) / len(residents)
    assert 0.002 < share < 0.05


def test_the_same_seed_gives_the_same_residents(region):
    first = list(generate_residents(region=region, residents=300, seed=11, today=TODAY))
    again = list(generate_residents(region=region, residents=300, seed=11, today=TODAY))
    other = list(generate_residents(region=region, residents=300, seed=12, today=TODAY))
    assert first == again
    assert first != other
