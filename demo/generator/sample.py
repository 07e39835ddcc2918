"""A bounded, deterministic sample of adult residents, taken while rows stream past.

Applicants and complaint reporters must be existing residents; keeping every resident
would cost memory in proportion to the population, so a reservoir (Algorithm R) keeps
a uniform sample of fixed size instead.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Iterator, Mapping


@dataclass(frozen=True, slots=True)
class Resident:
    nik: str
    name: str
    sex: int
    birth_date: date
    kelurahan_code: str  # 10 digits
    address: str
    rt: str
    rw: str


class ResidentSample:
    def __init__(self, *, size: int, seed: int, today: date, min_age: int = 18) -> None:
        self.size = max(1, size)
        self._rng = random.Random(f"{seed}:sample")
        self._born_by = date(today.year - min_age, today.month, min(today.day, 28))
        self._seen = 0
        self._items: list[Resident] = []

    def add(self, row: Mapping[str, object]) -> None:
        birth = row["TGL_LHR"]
        assert isinstance(birth, date)
        if birth > self._born_by:
            return
        self._seen += 1
        if len(self._items) < self.size:
            self._items.append(_resident(row))
            return
        slot = self._rng.randrange(self._seen)
        if slot < self.size:
            self._items[slot] = _resident(row)

    def observe(self, rows: Iterable[Mapping[str, object]]) -> Iterator[Mapping[str, object]]:
        """Pass `rows` through unchanged, sampling them on the way."""
        for row in rows:
            self.add(row)
            yield row

    @property
    def residents(self) -> list[Resident]:
        return list(self._items)


def _resident(row: Mapping[str, object]) -> Resident:
    return Resident(
        nik=str(row["NIK"]),
        name=str(row["NAMA_LGKP"]),
        sex=int(row["JENIS_KLMIN"]),  # type: ignore[call-overload]
        birth_date=row["TGL_LHR"],  # type: ignore[arg-type]
        kelurahan_code=f"{row['NO_PROP']}{row['NO_KAB']}{row['NO_KEC']}{row['NO_KEL']}",
        address=str(row["ALAMAT"]),
        rt=str(row["NO_RT"]),
        rw=str(row["NO_RW"]),
    )
