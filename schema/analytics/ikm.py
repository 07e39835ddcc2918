"""The community satisfaction index (Indeks Kepuasan Masyarakat, IKM) of PermenPANRB
14/2017, computed exactly.

Nine elements (unsur), each scored 1-4 by every respondent, in the regulation's order.
For each element NRR = sum of its scores / respondents; the index is
IKM = sum(NRR x 1/9) x 25. Everything is a `fractions.Fraction` with the exact weight
1/9; nothing is rounded until it is shown.

Rounding and grades: the regulation's tables publish values with two decimals and
leave gaps between its grade ranges (88.30 | 88.31). A value is graded on its exact
value rounded half-up to two decimals (`displayed`), which is the number the public
sees: 88.3049... shows as 88.30 and is a B; 88.305 shows as 88.31 and is an A. The
same table gives each element its service quality ("mutu pelayanan") from NRR x 25.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

MIN_SCORE = 1
MAX_SCORE = 4
WEIGHT = Fraction(1, 9)
CONVERSION = 25  # from the 1-4 scale to 25-100


@dataclass(frozen=True, slots=True)
class Element:
    code: str
    name: str  # Indonesian, as in the regulation
    name_en: str


ELEMENTS: tuple[Element, ...] = (
    Element("U1", "Persyaratan", "Requirements"),
    Element("U2", "Sistem, mekanisme dan prosedur", "Systems, mechanisms and procedures"),
    Element("U3", "Waktu penyelesaian", "Completion time"),
    Element("U4", "Biaya/tarif", "Cost/tariff"),
    Element("U5", "Produk spesifikasi jenis pelayanan", "Product specification of the service"),
    Element("U6", "Kompetensi pelaksana", "Competence of the staff"),
    Element("U7", "Perilaku pelaksana", "Behaviour of the staff"),
    Element("U8", "Penanganan pengaduan, saran dan masukan",
            "Handling of complaints, suggestions and feedback"),
    Element("U9", "Sarana dan prasarana", "Facilities and infrastructure"),
)
ELEMENT_COUNT = len(ELEMENTS)


@dataclass(frozen=True, slots=True)
class Grade:
    """One row of the regulation's table: converted value range, quality, performance."""

    letter: str  # mutu pelayanan A-D
    label: str  # kinerja unit pelayanan, Indonesian
    label_en: str
    lowest: Decimal  # inclusive, on the value rounded to two decimals
    highest: Decimal


GRADES: tuple[Grade, ...] = (
    Grade("A", "Sangat Baik", "Very good", Decimal("88.31"), Decimal("100.00")),
    Grade("B", "Baik", "Good", Decimal("76.61"), Decimal("88.30")),
    Grade("C", "Kurang Baik", "Poor", Decimal("65.00"), Decimal("76.60")),
    Grade("D", "Tidak Baik", "Not good", Decimal("25.00"), Decimal("64.99")),
)


class InvalidScores(ValueError):
    """A response that is not nine whole scores from 1 to 4; `index` is 0-based or None."""

    def __init__(self, message: str, *, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


def displayed(value: Fraction, places: int = 2) -> Decimal:
    """The value as published: rounded half-up to `places` decimals."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def grade_of(value: Fraction) -> Grade:
    """The grade of a converted value (25-100), judged on its two-decimal display."""
    shown = displayed(value)
    for grade in GRADES:
        if grade.lowest <= shown <= grade.highest:
            return grade
    raise ValueError(f"{shown} is outside the index range 25-100")


def checked_scores(scores: Sequence[object]) -> tuple[int, ...]:
    """The nine scores of one response, or InvalidScores naming the offending one."""
    if len(scores) != ELEMENT_COUNT:
        raise InvalidScores(
            f"a response has exactly {ELEMENT_COUNT} scores, one per element in the "
            f"regulation's order; got {len(scores)}"
        )
    for index, score in enumerate(scores):
        if isinstance(score, bool) or not isinstance(score, int) or not MIN_SCORE <= score <= MAX_SCORE:
            element = ELEMENTS[index]
            raise InvalidScores(
                f"score {index + 1} ({element.name}) must be a whole number from "
                f"{MIN_SCORE} to {MAX_SCORE}, got {score!r}",
                index=index,
            )
    return tuple(int(s) for s in scores)  # type: ignore[call-overload]


@dataclass(frozen=True, slots=True)
class ElementResult:
    element: Element
    total: int  # sum of the element's scores
    nrr: Fraction  # nilai rata-rata: total / respondents, 1-4
    weighted: Fraction  # NRR x 1/9
    converted: Fraction  # NRR x 25, 25-100
    grade: Grade  # the element's service quality


@dataclass(frozen=True, slots=True)
class IkmResult:
    respondents: int
    elements: tuple[ElementResult, ...]
    index: Fraction  # exact
    grade: Grade

    @property
    def index_displayed(self) -> Decimal:
        return displayed(self.index)

    def as_dict(self) -> dict[str, object]:
        """Plain figures for reports: floats of the exact values, the index to 2 decimals."""
        return {
            "respondents": self.respondents,
            "index": float(self.index_displayed),
            "indexExact": float(self.index),
            "grade": self.grade.letter,
            "gradeLabel": self.grade.label,
            "gradeLabelEn": self.grade.label_en,
            "elements": [
                {
                    "code": e.element.code,
                    "name": e.element.name,
                    "nameEn": e.element.name_en,
                    "nrr": float(e.nrr),
                    "weightedNrr": float(e.weighted),
                    "convertedValue": float(e.converted),
                    "grade": e.grade.letter,
                    "label": e.grade.label,
                    "labelEn": e.grade.label_en,
                }
                for e in self.elements
            ],
        }


def compute_ikm(totals: Sequence[int], respondents: int) -> IkmResult | None:
    """The index from the per-element score sums of `respondents` responses; None if none."""
    if respondents < 0:
        raise ValueError("respondents cannot be negative")
    if respondents == 0:
        return None
    if len(totals) != ELEMENT_COUNT:
        raise ValueError(f"expected {ELEMENT_COUNT} element totals, got {len(totals)}")
    elements = []
    for element, total in zip(ELEMENTS, totals):
        if not MIN_SCORE * respondents <= total <= MAX_SCORE * respondents:
            raise ValueError(f"{element.code}: total {total} impossible for {respondents} respondents")
        nrr = Fraction(total, respondents)
        converted = nrr * CONVERSION
        elements.append(ElementResult(element, total, nrr, nrr * WEIGHT, converted, grade_of(converted)))
    index = sum((e.weighted for e in elements), Fraction(0)) * CONVERSION
    return IkmResult(respondents, tuple(elements), index, grade_of(index))


def ikm_of_responses(responses: Sequence[Sequence[int]]) -> IkmResult | None:
    """The index of individual responses (for tests and small tools; the store sums in SQL)."""
    checked = [checked_scores(r) for r in responses]
    totals = [sum(r[i] for r in checked) for i in range(ELEMENT_COUNT)]
    return compute_ikm(totals, len(checked))
