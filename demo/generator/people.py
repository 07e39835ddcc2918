"""Residents in families, as `BIODATA_WNI` rows (dicts keyed by the SIAK column names).

Families are generated one at a time and streamed, so memory stays bounded whatever
the population: only the serial counters for NIK and No. KK grow (by distinct stem).
Everyone in a family shares the family card number, the address, RT/RW and kelurahan.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from bisect import bisect
from typing import Iterator, Sequence

from faker import Faker

from demo.generator import codes
from demo.generator.calendar import WorkCalendar
from demo.generator.errors import GeneratorInputError
from demo.generator.nik import FEMALE, MALE, SerialAllocator, kk_stem, nik_stem
from demo.generator.regions import Kelurahan, Region

Row = dict[str, object]

# STAT_HBKEL
HEAD, HUSBAND, WIFE, CHILD, CHILD_IN_LAW, GRANDCHILD = 1, 2, 3, 4, 5, 6
PARENT, PARENT_IN_LAW, OTHER_FAMILY, HELPER = 7, 8, 9, 10
# STAT_KWN
SINGLE, MARRIED, DIVORCED, WIDOWED = 1, 2, 3, 4

#: From when everyone held a NIK (e-KTP roll-out); earlier births were registered then.
NIK_ROLL_OUT = date(2011, 1, 1)
_CHRISTIAN_SURNAMES = ("Siregar", "Simanjuntak", "Nainggolan", "Hutapea", "Manullang",
                       "Marpaung", "Sitorus", "Situmorang", "Pardede", "Sihombing")
_CHILD_COUNT = codes.Weighted([(0, 7), (1, 15), (2, 30), (3, 26), (4, 13), (5, 6), (6, 3)])
_CHINESE_SURNAMES = ("Wijaya", "Halim", "Gunawan", "Tanoto", "Salim", "Santoso",
                     "Kusuma", "Lim", "Tan", "Sutanto")


@dataclass(slots=True)
class _Person:
    rel: int
    sex: int
    birth: date
    marital: int
    name: str
    mother: str
    local: bool = True


@dataclass(slots=True)
class _Street:
    name: str
    rw: int
    rts: int


@dataclass(slots=True)
class _Place:
    kelurahan: Kelurahan
    streets: list[_Street] = field(default_factory=list)


def generate_families(
    *,
    region: Region,
    residents: int,
    seed: int,
    today: date,
    migrant_origins: Sequence[tuple[codes.Origin, float]] = codes.MIGRANT_ORIGINS,
    migrant_share: float = 0.35,
) -> Iterator[list[Row]]:
    """Yield families (lists of rows, head first) until exactly `residents` rows."""
    if residents < 0:
        raise GeneratorInputError(f"residents must not be negative, got {residents}")
    factory = _FamilyFactory(region=region, seed=seed, today=today,
                             migrant_origins=migrant_origins, migrant_share=migrant_share)
    remaining = residents
    while remaining > 0:
        family = factory.family()
        if len(family) > remaining:
            family = family[:remaining]
        remaining -= len(family)
        yield family


def generate_residents(
    *,
    region: Region,
    residents: int,
    seed: int,
    today: date,
    migrant_origins: Sequence[tuple[codes.Origin, float]] = codes.MIGRANT_ORIGINS,
    migrant_share: float = 0.35,
) -> Iterator[Row]:
    """The rows of `generate_families(...)`, one by one."""
    for family in generate_families(region=region, residents=residents, seed=seed, today=today,
                                    migrant_origins=migrant_origins, migrant_share=migrant_share):
        yield from family


class _FamilyFactory:
    def __init__(
        self,
        *,
        region: Region,
        seed: int,
        today: date,
        migrant_origins: Sequence[tuple[codes.Origin, float]],
        migrant_share: float,
    ) -> None:
        self.region = region
        self.today = today
        self.rng = random.Random(f"{seed}:people")
        self.fake = Faker("id_ID")
        self.fake.seed_instance(seed)
        self.calendar = WorkCalendar(first_year=2005, last_year=today.year)
        self.origins = codes.Weighted(list(migrant_origins))
        self.migrant_share = migrant_share
        self.niks = SerialAllocator()
        self.kks = SerialAllocator()
        self.places = [self._place(kel) for kel in region.kelurahan]
        self.place_cum = list(accumulate(k.share for k in region.kelurahan))

    # --- places -------------------------------------------------------------------
    def _place(self, kel: Kelurahan) -> _Place:
        rng, place = self.rng, _Place(kel)
        rws = rng.randint(8, 18)
        names: set[str] = set()
        while len(names) < rws * 3:
            names.add(("Jl. " if rng.random() < 0.8 else "Gg. ") + self.fake.street())
        for i, name in enumerate(sorted(names)):
            place.streets.append(_Street(name, rw=i % rws + 1, rts=rng.randint(4, 9)))
        return place

    # --- people -------------------------------------------------------------------
    def _birth(self, age: int) -> date:
        """A birth date giving exactly `age` completed years today."""
        latest = _years_before(self.today, age)
        earliest = _years_before(self.today, age + 1) + timedelta(days=1)
        return earliest + timedelta(days=self.rng.randint(0, (latest - earliest).days))

    def _name(self, sex: int, religion: int, surname: str | None = None) -> str:
        fake = self.fake
        first = fake.first_name_male() if sex == MALE else fake.first_name_female()
        if surname:
            return f"{first} {surname}"
        r = self.rng.random()
        if r < 0.25:
            return first
        last = fake.last_name_male() if sex == MALE else fake.last_name_female()
        if r < 0.35:
            middle = fake.first_name_male() if sex == MALE else fake.first_name_female()
            return f"{first} {middle} {last}"
        return f"{first} {last}"

    def _surname(self, religion: int) -> str | None:
        if religion in (2, 3) and self.rng.random() < 0.6:
            return self.rng.choice(_CHRISTIAN_SURNAMES)
        if religion in (5, 6) and self.rng.random() < 0.7:
            return self.rng.choice(_CHINESE_SURNAMES)
        return None

    def _female_name(self, religion: int) -> str:
        return self._name(FEMALE, religion, self._surname(religion))

    # --- families -----------------------------------------------------------------
    def family(self) -> list[Row]:
        rng = self.rng
        religion = codes.RELIGION.draw(rng)
        surname = self._surname(religion)
        r = rng.random()
        if r < 0.08:
            members = self._single(religion)
        elif r < 0.17:
            members = self._single_parent(religion, surname)
        else:
            members = self._couple(religion, surname)
        self._extend(members, religion)
        return self._rows(members, religion)

    def _person(self, rel: int, sex: int, age: int, marital: int, religion: int,
                surname: str | None = None, mother: str | None = None) -> _Person:
        return _Person(rel, sex, self._birth(age), marital,
                       self._name(sex, religion, surname),
                       mother or self._female_name(religion))

    def _single(self, religion: int) -> list[_Person]:
        rng = self.rng
        age = rng.choice((rng.randint(19, 35), rng.randint(19, 35), rng.randint(36, 85)))
        marital = SINGLE if age < 30 or rng.random() < 0.4 else rng.choice((DIVORCED, WIDOWED))
        sex = MALE if rng.random() < 0.6 else FEMALE
        return [self._person(HEAD, sex, age, marital, religion)]

    def _single_parent(self, religion: int, surname: str | None) -> list[_Person]:
        rng = self.rng
        sex = FEMALE if rng.random() < 0.75 else MALE
        age = rng.randint(28, 72)
        head = self._person(HEAD, sex, age, rng.choice((DIVORCED, WIDOWED, WIDOWED)), religion,
                            surname if sex == MALE else None)
        mother = head.name if sex == FEMALE else self._female_name(religion)
        return [head, *self._children(age, religion, surname, mother, rng.randint(1, 3))]

    def _couple(self, religion: int, surname: str | None) -> list[_Person]:
        rng = self.rng
        husband_age = min(85, max(21, int(rng.gauss(42, 12))))
        wife_age = max(18, husband_age - rng.randint(-2, 8))
        female_head = rng.random() < 0.03
        if female_head:
            head = self._person(HEAD, FEMALE, wife_age, MARRIED, religion)
            spouse = self._person(HUSBAND, MALE, husband_age, MARRIED, religion, surname)
            mother = head.name
        else:
            head = self._person(HEAD, MALE, husband_age, MARRIED, religion, surname)
            spouse = self._person(WIFE, FEMALE, wife_age, MARRIED, religion)
            mother = spouse.name
        count = _CHILD_COUNT.draw(rng)
        return [head, spouse, *self._children(wife_age, religion, surname, mother, count)]

    def _children(self, mother_age: int, religion: int, surname: str | None,
                  mother: str, count: int) -> list[_Person]:
        rng, children = self.rng, []
        age = mother_age - rng.randint(19, 30)
        for _ in range(count):
            if age < 0:
                break
            if age < 26 or rng.random() < 0.35:
                sex = MALE if rng.random() < 0.51 else FEMALE
                marital = SINGLE if age < 25 or rng.random() < 0.85 else DIVORCED
                children.append(self._person(CHILD, sex, age, marital, religion, surname, mother))
            age -= rng.randint(1, 6)
        return children

    def _extend(self, members: list[_Person], religion: int) -> None:
        rng, head = self.rng, members[0]
        head_age = _age(head.birth, self.today)
        r = rng.random()
        if r < 0.09 and head_age < 62:
            # a widowed parent (of the head, or of the spouse: a parent-in-law)
            rel = PARENT if rng.random() < 0.6 else PARENT_IN_LAW
            age = min(96, head_age + rng.randint(20, 36))
            sex = FEMALE if rng.random() < 0.7 else MALE
            members.append(self._person(rel, sex, age, WIDOWED, religion))
        elif r < 0.15 and head_age >= 50:
            # a married child living in with spouse and grandchildren
            youngest_parent = min(_age(m.birth, self.today) for m in members[:2])
            child_age = youngest_parent - rng.randint(20, 28)
            if child_age >= 20:
                mother = next((m.name for m in members if m.sex == FEMALE and m.rel in (HEAD, WIFE)),
                              self._female_name(religion))
                child = self._person(CHILD, FEMALE if rng.random() < 0.6 else MALE,
                                     child_age, MARRIED, religion, mother=mother)
                in_law = self._person(CHILD_IN_LAW, MALE if child.sex == FEMALE else FEMALE,
                                      max(18, child_age + rng.randint(-3, 4)), MARRIED, religion)
                members += [child, in_law]
                grandmother = child.name if child.sex == FEMALE else in_law.name
                young = min(_age(child.birth, self.today), _age(in_law.birth, self.today))
                for g in self._children(young, religion, None, grandmother, rng.randint(0, 3)):
                    g.rel = GRANDCHILD
                    members.append(g)
        elif r < 0.19:
            members.append(self._person(OTHER_FAMILY, MALE if rng.random() < 0.5 else FEMALE,
                                        rng.randint(15, 30), SINGLE, religion))
        elif r < 0.2:
            members.append(self._person(HELPER, FEMALE, rng.randint(18, 50),
                                        rng.choice((SINGLE, MARRIED, DIVORCED)), religion))

    # --- rows ---------------------------------------------------------------------
    def _rows(self, members: list[_Person], religion: int) -> list[Row]:
        rng, today = self.rng, self.today
        place = self.places[bisect(self.place_cum, rng.random() * self.place_cum[-1])]
        kel = place.kelurahan
        street = rng.choice(place.streets)
        address = f"{street.name} No. {rng.randint(1, 250)}"
        rt, rw = f"{rng.randint(1, street.rts):03d}", f"{street.rw:03d}"
        family_local = rng.random() >= self.migrant_share
        oldest_couple = min(m.birth for m in members[:2])
        issued = max(date(2006, 1, 1), _years_after(oldest_couple, 20))
        issued = issued + timedelta(days=rng.randint(0, max(0, (today - issued).days)))
        issued = min(issued, today)
        kk = self.kks.allocate(kk_stem(self._local_prefix(kel, issued), issued))
        changed = self._office_time(issued + timedelta(days=rng.randint(0, (today - issued).days)))
        rows: list[Row] = []
        for person in members:
            age = _age(person.birth, today)
            local = person.birth >= issued or (
                family_local if person.rel in (HEAD, WIFE, HUSBAND, CHILD, GRANDCHILD)
                else rng.random() >= 0.5)
            if local:
                prefix = self._local_prefix(kel, person.birth)
                birth_place = self.region.city_name
            else:
                origin = self.origins.draw(rng)
                prefix, birth_place = origin.prefix, origin.birth_place
            edu = codes.education(rng, age)
            own_religion = religion if rng.random() < 0.98 else codes.RELIGION.draw(rng)
            disabled = rng.random() < 0.004 + 0.0003 * age
            update = changed
            if person.birth >= changed.date():
                update = self._office_time(min(today, person.birth + timedelta(days=rng.randint(3, 60))))
            rows.append({
                "NIK": self.niks.allocate(nik_stem(prefix, person.birth, person.sex)),
                "NO_KK": kk,
                "NAMA_LGKP": person.name[:100],
                "TMPT_LHR": birth_place[:60],
                "TGL_LHR": person.birth,
                "JENIS_KLMIN": person.sex,
                "GOL_DRH": codes.BLOOD_TYPE.draw(rng),
                "AGAMA": own_religion,
                "STAT_KWN": person.marital,
                "STAT_HBKEL": person.rel,
                "PDDK_AKH": edu,
                "JENIS_PKRJN": codes.occupation(rng, age, person.sex, edu),
                "NAMA_LGKP_IBU": person.mother[:100],
                "ALAMAT": address,
                "NO_RT": rt,
                "NO_RW": rw,
                "NO_PROP": kel.code[0:2],
                "NO_KAB": kel.code[2:4],
                "NO_KEC": kel.code[4:6],
                "NO_KEL": kel.code[6:10],
                "PNYDNG_CCT": codes.DISABILITIES.draw(rng) if disabled else None,
                "TGL_UBAH": update,
            })
        return rows

    def _local_prefix(self, kel: Kelurahan, day: date) -> str:
        """The code a kelurahan's residents were registered under on `day`."""
        registered = max(day, NIK_ROLL_OUT)
        valid_from = kel.kecamatan.valid_from
        if valid_from is None or registered >= valid_from:
            return kel.kecamatan.code
        prefixes = self.region.nik_region_prefixes
        return prefixes[0] if len(prefixes) == 1 else self.rng.choice(prefixes)

    def _office_time(self, day: date) -> datetime:
        """A moment in office hours on or after `day`, as naive local (WIB) time."""
        day = self.calendar.on_or_after(day)
        if day > self.today:
            day = self.calendar.on_or_before(self.today)
        minutes = self.rng.randint(0, 479)
        moment = datetime.combine(day, time(8, 0)) + timedelta(minutes=minutes,
                                                               seconds=self.rng.randint(0, 59))
        return moment


def _age(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _years_after(day: date, years: int) -> date:
    return _years_before(day, -years)


__all__ = ["generate_families", "generate_residents"]
