"""How much a sub-district office sees in a year, per 1,000 residents.

The rates come from published figures of comparable offices; demo/VOLUMES.md gives
each source and the arithmetic. Survey answers follow the sample sizes PermenPANRB
14/2017 asks for (the Krejcie-Morgan table) for the year's service users.
"""

from __future__ import annotations

# Mal Pelayanan Publik Kota Pekanbaru (DPMPTSP counters with Disdukcapil): 8,000-9,000
# requests a month; 8,500 x 12 / 983.35 thousand residents (SP2020)
APPLICATIONS_PER_1000_PER_YEAR = 103.7
# Jakarta's Cepat Respon Masyarakat, all 14 channels, 2024: 185,852 reports;
# / 10.56 million residents (SP2020)
COMPLAINTS_PER_1000_PER_YEAR = 17.6

# Krejcie & Morgan (1970): chi-square for one degree of freedom at 95%, P = 0.5, d = 0.05
_CHI_SQUARE = 3.841
_P = 0.5
_MARGIN = 0.05


def yearly(residents: int, per_1000: float) -> float:
    return residents * per_1000 / 1000


def count_over(residents: int, per_1000: float, years: int) -> int:
    """Cases over `years` for this many residents at `per_1000` a year."""
    return round(yearly(residents, per_1000) * years)


def survey_sample(users: float) -> float:
    """Krejcie-Morgan sample size for a year's `users` of a service (the table of
    PermenPANRB 14/2017: 100 -> 80, 1,000 -> 278, 10,000 -> 370, 100,000 -> 384)."""
    if users <= 0:
        return 0.0
    spread = _CHI_SQUARE * _P * (1 - _P)
    return spread * users / (_MARGIN**2 * (users - 1) + spread)


def answer_share(users_per_year: float) -> float:
    """The share of a year's service users who answer the survey, to reach the sample."""
    if users_per_year <= 0:
        return 0.0
    return min(1.0, survey_sample(users_per_year) / users_per_year)
