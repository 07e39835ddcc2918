"""SIAK code tables and the distributions the generator draws them from.

Weights are rough figures for an urban kecamatan of Pekanbaru (mostly Muslim, a
sizeable Christian Batak and Buddhist/Khonghucu Chinese-Indonesian minority, many
residents who moved in from elsewhere in Riau and Sumatra). They are data, passed to
the generator; nothing here is tied to one kecamatan.
"""

from __future__ import annotations

import random
from bisect import bisect
from dataclasses import dataclass
from itertools import accumulate
from typing import Generic, Sequence, TypeVar

T = TypeVar("T")


class Weighted(Generic[T]):
    """A fixed weighted choice, drawn with one random number."""

    __slots__ = ("_values", "_cum", "_total")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self._values = [v for v, _ in pairs]
        self._cum = list(accumulate(w for _, w in pairs))
        self._total = self._cum[-1]

    def draw(self, rng: random.Random) -> T:
        return self._values[bisect(self._cum, rng.random() * self._total)]


# AGAMA: 1 Islam, 2 Kristen, 3 Katolik, 4 Hindu, 5 Buddha, 6 Khonghucu, 7 Kepercayaan
RELIGION = Weighted([(1, 86.5), (2, 8.0), (3, 2.2), (4, 0.2), (5, 2.6), (6, 0.4), (7, 0.1)])

# GOL_DRH: many residents do not know theirs (13 TIDAK TAHU)
BLOOD_TYPE = Weighted(
    [(1, 12), (2, 14), (3, 4), (4, 20), (5, 2), (6, 0.2), (7, 2), (8, 0.2), (9, 0.8),
     (10, 0.1), (11, 3), (12, 0.2), (13, 41.5)]
)

DISABILITIES = Weighted(
    [("Cacat Fisik", 45), ("Cacat Netra/Buta", 15), ("Cacat Rungu/Wicara", 15),
     ("Cacat Mental/Jiwa", 12), ("Cacat Fisik dan Mental", 5), ("Cacat Lainnya", 8)]
)

# PDDK_AKH for adults, by generation
EDUCATION_ADULT = Weighted(
    [(2, 3), (3, 11), (4, 14), (5, 42), (6, 3), (7, 7), (8, 17), (9, 2.5), (10, 0.5)]
)
EDUCATION_OLDER = Weighted(
    [(1, 4), (2, 8), (3, 26), (4, 18), (5, 28), (6, 2), (7, 4), (8, 8.5), (9, 1.2), (10, 0.3)]
)
EDUCATION_YOUNG_ADULT = Weighted([(4, 8), (5, 80), (6, 4), (7, 8)])


def education(rng: random.Random, age: int) -> int:
    if age < 5:
        return 1
    if age < 7:
        return 1 if rng.random() < 0.7 else 2
    if age < 13:
        return 2
    if age < 16:
        return 3
    if age < 19:
        return 4 if rng.random() < 0.9 else 3
    if age < 23:
        return EDUCATION_YOUNG_ADULT.draw(rng)
    if age < 56:
        return EDUCATION_ADULT.draw(rng)
    return EDUCATION_OLDER.draw(rng)


@dataclass(frozen=True, slots=True)
class Job:
    code: int
    weight: float
    min_education: int = 1
    sex: int | None = None  # 1 or 2 when (almost) only one sex does it


# JENIS_PKRJN for working-age adults
JOBS = (
    Job(1, 5), Job(5, 6, 5), Job(6, 1.2, 5, 1), Job(7, 1.2, 5, 1), Job(8, 3), Job(9, 2),
    Job(10, 0.2, sex=1), Job(11, 1), Job(12, 2, sex=1), Job(13, 1.5, sex=1),
    Job(14, 22, 4), Job(15, 2.5, 5), Job(16, 3, 5), Job(17, 8), Job(18, 3.5, 8),
    Job(19, 0.8, 9), Job(20, 0.4, 8), Job(21, 0.5, 6, 2), Job(22, 0.8, 6), Job(23, 22),
    Job(24, 2, sex=1), Job(25, 6), Job(26, 2),
)


def _jobs_for(education_level: int, sex: int) -> Weighted[int]:
    return Weighted(
        [(j.code, j.weight) for j in JOBS
         if j.min_education <= education_level and (j.sex is None or j.sex == sex)]
    )


_JOBS_BY = {(e, s): _jobs_for(e, s) for e in range(1, 11) for s in (1, 2)}


def occupation(rng: random.Random, age: int, sex: int, education_level: int) -> int:
    if age < 5:
        return 1
    if age < 19:
        return 3 if rng.random() < 0.95 else 1
    if age < 23 and education_level >= 5 and rng.random() < 0.55:
        return 3
    if age >= 58:
        r = rng.random()
        if education_level >= 5 and r < 0.35:
            return 4
        if r < 0.65:
            return 2 if sex == 2 else 1
    elif sex == 2 and rng.random() < 0.38:
        return 2
    return _JOBS_BY[(education_level, sex)].draw(rng)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a resident who moved in was first registered."""

    prefix: str  # 6-digit region code of the NIK
    birth_place: str


#: Default origins of residents who moved in (Riau, West and North Sumatra, Java).
MIGRANT_ORIGINS: tuple[tuple[Origin, float], ...] = (
    (Origin("147101", "Pekanbaru"), 6), (Origin("147102", "Pekanbaru"), 6),
    (Origin("147105", "Pekanbaru"), 5), (Origin("147110", "Pekanbaru"), 5),
    (Origin("140601", "Bangkinang"), 5), (Origin("140612", "Kampar"), 4),
    (Origin("140501", "Siak"), 3), (Origin("140401", "Pangkalan Kerinci"), 2),
    (Origin("140801", "Bengkalis"), 3), (Origin("147301", "Dumai"), 3),
    (Origin("140301", "Tembilahan"), 3), (Origin("140201", "Rengat"), 2),
    (Origin("140101", "Teluk Kuantan"), 2), (Origin("140701", "Pasir Pengaraian"), 2),
    (Origin("140901", "Bagansiapiapi"), 2),
    (Origin("137101", "Padang"), 7), (Origin("137501", "Bukittinggi"), 5),
    (Origin("130601", "Lubuk Basung"), 3), (Origin("137401", "Payakumbuh"), 4),
    (Origin("130801", "Batusangkar"), 3), (Origin("137201", "Solok"), 2),
    (Origin("127101", "Medan"), 6), (Origin("127301", "Pematangsiantar"), 3),
    (Origin("120201", "Tarutung"), 3), (Origin("121201", "Balige"), 2),
    (Origin("317301", "Jakarta"), 2), (Origin("337401", "Semarang"), 1),
    (Origin("330201", "Purwokerto"), 1), (Origin("340401", "Sleman"), 1),
    (Origin("357801", "Surabaya"), 1), (Origin("327301", "Bandung"), 1),
    (Origin("160901", "Palembang"), 1), (Origin("150101", "Jambi"), 1),
)
