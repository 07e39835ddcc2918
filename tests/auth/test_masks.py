from __future__ import annotations

from datetime import date, datetime

import pytest

from auth.masks import (
    MASK_DISCLOSURE,
    MASKS,
    apply_mask,
    disclosure_rank,
    initials,
    kk,
    nik,
    redact,
    year,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("1471081234560001", "147108******0001", id="design-example"),
        pytest.param(" 1471085505900002 ", "147108******0002", id="surrounding-space"),
        pytest.param(1471081234560001, "147108******0001", id="integer"),
        pytest.param("12345", "****************", id="too-short-hidden-entirely"),
        pytest.param("14710812345600011", "****************", id="too-long-hidden-entirely"),
        pytest.param("14710812345600AB", "****************", id="not-digits-hidden-entirely"),
        pytest.param(None, None, id="none-stays-none"),
    ],
)
def test_nik_mask_keeps_region_digits_and_last_four(value: object, expected: str | None) -> None:
    assert nik(value) == expected


def test_family_card_number_is_masked_like_a_nik() -> None:
    assert kk("1471080101200003") == "147108******0003"
    assert kk("bad") == "****************"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(date(1990, 5, 17), "1990", id="date"),
        pytest.param(datetime(1985, 1, 2, 3, 4), "1985", id="datetime"),
        pytest.param("1990-05-17", "1990", id="iso-string"),
        pytest.param(date(7, 1, 1), "0007", id="four-digit-padding"),
        pytest.param("17-05-1990", None, id="unparseable-withheld"),
        pytest.param(12.5, None, id="wrong-type-withheld"),
        pytest.param(None, None, id="none"),
    ],
)
def test_year_mask_reduces_a_date_to_its_year(value: object, expected: str | None) -> None:
    assert year(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("Siti Rahmawati", "S. R.", id="design-example"),
        pytest.param("  siti   rahmawati ", "S. R.", id="lower-case-and-spacing"),
        pytest.param("Budi", "B.", id="single-name"),
        pytest.param("H. Ahmad Dahlan", "H. A. D.", id="title"),
        pytest.param("'Ainun Najib", "A. N.", id="leading-apostrophe"),
        pytest.param("Öztürk Çelik", "Ö. Ç.", id="non-ascii"),
        pytest.param("", "", id="empty"),
        pytest.param(None, None, id="none"),
        pytest.param(42, None, id="not-text-withheld"),
    ],
)
def test_initials_mask_keeps_first_letters(value: object, expected: str | None) -> None:
    assert initials(value) == expected


def test_redact_withholds_any_value() -> None:
    assert redact("Siti") is None
    assert redact(None) is None


def test_registry_names_every_mask_and_applies_it_by_name() -> None:
    assert set(MASKS) == {"nik", "kk", "year", "initials", "redact"}
    assert set(MASK_DISCLOSURE) == set(MASKS)
    assert apply_mask("initials", "Siti Rahmawati") == "S. R."
    with pytest.raises(TypeError):
        MASKS["x"] = redact  # type: ignore[index]


def test_disclosure_rank_orders_masks_from_least_revealing() -> None:
    assert disclosure_rank("redact") < disclosure_rank("initials") < disclosure_rank("nik")
    assert disclosure_rank("unheard-of") == 0
