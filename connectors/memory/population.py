"""An in-memory population registry with the SQL backend's ordering and cursors."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from connectors._support import (
    check_kelurahan_codes,
    check_page,
    decode_nik_cursor,
    encode_cursor,
    unique,
)
from connectors.memory._base import MemorySource, keyset_page
from connectors.population import codes
from connectors.records import CitizenFilter, CitizenRecord, Page, PageRequest


class InMemoryPopulationSource(MemorySource):
    def __init__(
        self, citizens: Iterable[CitizenRecord] = (), *, source_id: str = "population"
    ) -> None:
        super().__init__(source_id)
        self._by_nik = {c.nik: c for c in citizens}
        self._ordered = sorted(self._by_nik.values(), key=lambda c: c.nik)
        dated = [c for c in self._ordered if c.updated_at is not None]
        for citizen in sorted(dated, key=lambda c: (c.updated_at, c.nik)):
            assert citizen.updated_at is not None
            self._append_change(citizen.nik, citizen.updated_at)

    async def citizens_by_nik(self, niks: Sequence[str]) -> dict[str, CitizenRecord]:
        self._enter("citizens_by_nik")
        return {nik: self._by_nik[nik] for nik in unique(niks) if nik in self._by_nik}

    async def families_by_number(
        self, numbers: Sequence[str]
    ) -> dict[str, list[CitizenRecord]]:
        self._enter("families_by_number")
        wanted = set(numbers)
        families: dict[str, list[CitizenRecord]] = {}
        for citizen in self._ordered:
            if citizen.family_number in wanted:
                families.setdefault(citizen.family_number, []).append(citizen)
        for members in families.values():
            members.sort(
                key=lambda c: (
                    codes.RELATIONSHIP_CODES[c.family_relationship],
                    c.birth_date,
                    c.nik,
                )
            )
        return families

    async def list_citizens(
        self, flt: CitizenFilter, page: PageRequest
    ) -> Page[CitizenRecord]:
        operation = "list_citizens"
        self._enter(operation)
        check_page(page, source=self.source_id, operation=operation)
        if flt.kelurahan_codes is not None:
            check_kelurahan_codes(
                flt.kelurahan_codes, source=self.source_id, operation=operation
            )
        after = (
            None
            if page.after is None
            else decode_nik_cursor(
                page.after, source=self.source_id, operation=operation
            )
        )
        matching = [c for c in self._ordered if _matches(c, flt)]
        return keyset_page(
            matching,
            page,
            key=lambda c: c.nik,
            after=after,
            descending=False,
            cursor_of=lambda c: encode_cursor(c.nik),
        )


def _matches(c: CitizenRecord, flt: CitizenFilter) -> bool:
    if flt.kelurahan_codes is not None and c.kelurahan_code not in flt.kelurahan_codes:
        return False
    if flt.name_contains and flt.name_contains.lower() not in c.full_name.lower():
        return False
    if flt.family_number is not None and c.family_number != flt.family_number:
        return False
    if flt.sex is not None and c.sex is not flt.sex:
        return False
    if flt.born_from is not None and c.birth_date < flt.born_from:
        return False
    return flt.born_to is None or c.birth_date <= flt.born_to
