"""The IKM of PermenPANRB 14/2017 against hand-computed examples and its grade boundaries."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from schema.analytics.ikm import (
    ELEMENTS,
    InvalidScores,
    checked_scores,
    compute_ikm,
    displayed,
    grade_of,
    ikm_of_responses,
)


def spread(total: int, respondents: int) -> list[int]:
    """Nine element sums adding up to `total`, each possible for `respondents`."""
    base, extra = divmod(total, 9)
    sums = [base + (1 if i < extra else 0) for i in range(9)]
    assert all(respondents <= s <= 4 * respondents for s in sums)
    return sums


def test_the_elements_follow_the_regulations_order() -> None:
    assert [e.code for e in ELEMENTS] == [f"U{i}" for i in range(1, 10)]
    assert ELEMENTS[0].name == "Persyaratan"
    assert ELEMENTS[1].name == "Sistem, mekanisme dan prosedur"
    assert ELEMENTS[3].name == "Biaya/tarif"
    assert ELEMENTS[7].name == "Penanganan pengaduan, saran dan masukan"
    assert ELEMENTS[8].name == "Sarana dan prasarana"


def test_all_fours_give_exactly_100_not_the_99_9_of_a_0_111_weight() -> None:
    result = ikm_of_responses([[4] * 9] * 3)
    assert result is not None
    assert result.index == 100
    assert result.grade.letter == "A"
    assert result.grade.label == "Sangat Baik"


def test_all_ones_give_25_and_grade_d() -> None:
    result = ikm_of_responses([[1] * 9])
    assert result is not None
    assert result.index == 25
    assert (result.grade.letter, result.grade.label, result.grade.label_en) == ("D", "Tidak Baik", "Not good")


def test_two_respondents_by_hand() -> None:
    # U1..U9 sums: 7 6 7 7 6 7 7 6 7 = 60; IKM = 60 / (9 x 2) x 25 = 83.333... -> 83.33, B
    result = ikm_of_responses([[4, 3, 3, 4, 3, 3, 4, 3, 3], [3, 3, 4, 3, 3, 4, 3, 3, 4]])
    assert result is not None
    assert result.respondents == 2
    assert result.index == Fraction(250, 3)
    assert result.index_displayed == Decimal("83.33")
    assert (result.grade.letter, result.grade.label) == ("B", "Baik")
    u1, u2 = result.elements[0], result.elements[1]
    assert u1.total == 7 and u1.nrr == Fraction(7, 2) and u1.weighted == Fraction(7, 18)
    assert u1.converted == Fraction(175, 2)  # 87.5: element quality B
    assert u1.grade.letter == "B"
    assert u2.nrr == 3 and u2.converted == 75  # 75.00: element quality C
    assert (u2.grade.letter, u2.grade.label, u2.grade.label_en) == ("C", "Kurang Baik", "Poor")


def test_three_respondents_with_a_repeating_decimal() -> None:
    # sums 10 9 8 11 12 9 10 7 9 = 85; IKM = 85 / 27 x 25 = 78.7037... -> 78.70, B
    responses = [
        [3, 3, 2, 4, 4, 3, 3, 2, 3],
        [4, 3, 3, 3, 4, 3, 4, 3, 3],
        [3, 3, 3, 4, 4, 3, 3, 2, 3],
    ]
    result = ikm_of_responses(responses)
    assert result is not None
    assert result.index == Fraction(85 * 25, 27)
    assert result.index_displayed == Decimal("78.70")
    assert result.grade.letter == "B"
    assert result.elements[4].nrr == 4 and result.elements[4].grade.letter == "A"
    assert result.elements[7].nrr == Fraction(7, 3)  # 2.333...: 58.33, D
    assert result.elements[7].grade.letter == "D"


def test_the_index_equals_the_sum_of_weighted_nrr_times_25() -> None:
    result = ikm_of_responses([[1, 2, 3, 4, 1, 2, 3, 4, 1], [4, 4, 4, 4, 3, 3, 3, 3, 2]])
    assert result is not None
    assert result.index == sum(e.nrr * Fraction(1, 9) for e in result.elements) * 25


@pytest.mark.parametrize(
    ("total", "respondents", "shown", "letter"),
    [
        pytest.param(317_898, 10_000, "88.31", "A", id="88.305-exactly-rounds-up-to-A"),
        pytest.param(317_897, 10_000, "88.30", "B", id="88.3047-stays-B"),
        pytest.param(31_788, 1_000, "88.30", "B", id="88.30-exactly-is-B"),
        pytest.param(3_179_160, 100_000, "88.31", "A", id="88.31-exactly-is-A"),
        pytest.param(275_778, 10_000, "76.61", "B", id="76.605-exactly-rounds-up-to-B"),
        pytest.param(275_777, 10_000, "76.60", "C", id="76.6047-stays-C"),
        pytest.param(233_982, 10_000, "65.00", "C", id="64.995-exactly-rounds-up-to-C"),
        pytest.param(233_981, 10_000, "64.99", "D", id="64.9947-stays-D"),
    ],
)
def test_grade_boundaries_are_judged_on_the_value_rounded_to_two_decimals(
    total: int, respondents: int, shown: str, letter: str
) -> None:
    result = compute_ikm(spread(total, respondents), respondents)
    assert result is not None
    assert result.index == Fraction(25 * total, 9 * respondents)
    assert result.index_displayed == Decimal(shown)
    assert result.grade.letter == letter


@pytest.mark.parametrize(
    ("value", "letter"),
    [("100", "A"), ("88.305", "A"), ("88.3049999", "B"), ("76.61", "B"), ("76.6049", "C"),
     ("65", "C"), ("64.9949", "D"), ("25", "D")],
)
def test_grade_of_a_converted_value(value: str, letter: str) -> None:
    assert grade_of(Fraction(value)).letter == letter


def test_a_value_outside_25_to_100_has_no_grade() -> None:
    with pytest.raises(ValueError, match="outside"):
        grade_of(Fraction("24.99"))


def test_display_rounds_half_up() -> None:
    assert displayed(Fraction("83.335")) == Decimal("83.34")
    assert displayed(Fraction("83.3349")) == Decimal("83.33")


def test_no_respondents_means_no_index() -> None:
    assert compute_ikm([0] * 9, 0) is None
    assert ikm_of_responses([]) is None


def test_impossible_totals_are_refused() -> None:
    with pytest.raises(ValueError, match="impossible"):
        compute_ikm([5] * 9, 1)
    with pytest.raises(ValueError, match="9 element totals"):
        compute_ikm([4] * 8, 1)


@pytest.mark.parametrize(
    ("scores", "index", "fragment"),
    [
        pytest.param([4] * 8, None, "exactly 9 scores", id="eight-scores"),
        pytest.param([4] * 10, None, "exactly 9 scores", id="ten-scores"),
        pytest.param([4, 4, 0, 4, 4, 4, 4, 4, 4], 2, "score 3 (Waktu penyelesaian)", id="zero"),
        pytest.param([4, 4, 4, 4, 4, 4, 4, 4, 5], 8, "score 9 (Sarana dan prasarana)", id="five"),
        pytest.param([4, True, 4, 4, 4, 4, 4, 4, 4], 1, "score 2", id="boolean"),
    ],
)
def test_a_response_that_is_not_nine_scores_from_1_to_4_names_the_offender(
    scores: list[object], index: int | None, fragment: str
) -> None:
    with pytest.raises(InvalidScores, match=fragment.replace("(", r"\(").replace(")", r"\)")) as caught:
        checked_scores(scores)
    assert caught.value.index == index


def test_as_dict_gives_plain_figures() -> None:
    result = ikm_of_responses([[4, 3, 3, 4, 3, 3, 4, 3, 3], [3, 3, 4, 3, 3, 4, 3, 3, 4]])
    assert result is not None
    figures = result.as_dict()
    assert figures["index"] == 83.33
    assert figures["grade"] == "B"
    assert figures["elements"][0] == {  # type: ignore[index]
        "code": "U1", "name": "Persyaratan", "nameEn": "Requirements", "nrr": 3.5,
        "weightedNrr": 7 / 18, "convertedValue": 87.5, "grade": "B", "label": "Baik", "labelEn": "Good",
    }
