"""Yearly volumes per 1,000 residents (demo/VOLUMES.md) and the survey sample sizes of
PermenPANRB 14/2017 (the Krejcie-Morgan table)."""

from __future__ import annotations

import pytest

from demo.generator.volumes import (
    APPLICATIONS_PER_1000_PER_YEAR,
    COMPLAINTS_PER_1000_PER_YEAR,
    answer_share,
    count_over,
    survey_sample,
)


@pytest.mark.parametrize(
    ("users", "sample"),
    [(10, 10), (100, 80), (500, 217), (1_000, 278), (2_000, 322), (10_000, 370), (100_000, 383),
     (1_000_000, 384)],
)
def test_the_sample_sizes_are_those_of_the_krejcie_morgan_table(users: int, sample: int) -> None:
    assert round(survey_sample(users)) == sample


def test_the_rates_are_the_derived_published_ones() -> None:
    # MPP Pekanbaru 8,500 a month x 12 / 983,350 residents; Jakarta CRM 185,852 / 10.56 million
    assert APPLICATIONS_PER_1000_PER_YEAR == pytest.approx(8_500 * 12 / 983.35, abs=0.05)
    assert COMPLAINTS_PER_1000_PER_YEAR == pytest.approx(185_852 / 10_560, abs=0.05)


def test_counts_follow_residents_and_years() -> None:
    assert count_over(10_000, APPLICATIONS_PER_1000_PER_YEAR, 2) == 2_074
    assert count_over(10_000, COMPLAINTS_PER_1000_PER_YEAR, 1) == 176
    assert count_over(0, COMPLAINTS_PER_1000_PER_YEAR, 2) == 0


def test_small_offices_ask_everyone_and_large_ones_a_few() -> None:
    assert answer_share(50) == pytest.approx(44 / 50, abs=0.01) and answer_share(0) == 0.0
    assert answer_share(1_037) == pytest.approx(280 / 1_037, rel=0.01)
    assert answer_share(100_000) < 0.004
