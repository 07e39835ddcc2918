from __future__ import annotations

from datetime import date

import pytest

from connectors.nik import InvalidNik, is_valid_family_number, parse_nik
from connectors.records import Sex


def test_a_womans_nik_adds_forty_to_the_day_of_birth() -> None:
    parts = parse_nik("1471084107900001")
    assert parts.sex is Sex.FEMALE
    assert parts.birth_date(today=date(2026, 11, 28)) == date(1990, 7, 1)
    assert parts.region == "147108"
    assert parts.serial == "0001"


def test_a_mans_nik_keeps_the_day_of_birth() -> None:
    parts = parse_nik("1471081512050123")
    assert parts.sex is Sex.MALE
    assert parts.birth_date(today=date(2026, 11, 28)) == date(2005, 12, 15)


def test_the_century_is_the_one_that_puts_the_birth_in_the_past() -> None:
    assert parse_nik("1471080101300001").birth_date(today=date(2026, 1, 1)) == date(1930, 1, 1)
    assert parse_nik("1471080101260001").birth_date(today=date(2026, 1, 1)) == date(2026, 1, 1)


def test_a_nik_agrees_with_its_record_only_on_the_same_date_and_sex() -> None:
    parts = parse_nik("1471084107900001")
    assert parts.agrees_with(date(1990, 7, 1), Sex.FEMALE)
    assert not parts.agrees_with(date(1990, 7, 1), Sex.MALE)
    assert not parts.agrees_with(date(1991, 7, 1), Sex.FEMALE)


def test_29_february_is_valid_in_a_leap_year_only() -> None:
    parse_nik("1471082902000001")
    with pytest.raises(InvalidNik):
        parse_nik("1471082902010001")


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("147108410790000", id="15-digits"),
        pytest.param("14710841079000011", id="17-digits"),
        pytest.param("14710841079000a1", id="letter"),
        pytest.param("１４７１０８４１０７９０００１", id="full-width-digits"),
        pytest.param("1471083207900001", id="day-32"),
        pytest.param("1471087207900001", id="female-day-32"),
        pytest.param("1471080007900001", id="day-0"),
        pytest.param("1471081513900001", id="month-13"),
        pytest.param("1471081507900000", id="serial-0000"),
        pytest.param("0071081507900001", id="province-00"),
        pytest.param("", id="empty"),
        pytest.param("1471081507900001' OR 1=1", id="sql-injection"),
    ],
)
def test_an_invalid_nik_is_refused(value: str) -> None:
    with pytest.raises(InvalidNik):
        parse_nik(value)


def test_family_card_numbers_are_sixteen_digits() -> None:
    assert is_valid_family_number("1471080101200001")
    assert not is_valid_family_number("147108010120000")
