"""Per-request loaders: the only way resolvers reach the sources.

Every loader batches the keys asked for within one tick into one source call
(aiodataloader), records the call in the request's source trace, and turns a
connector failure into a per-key exception so that only the affected paths fail.
Loaders capture the running event loop: create them per request, inside it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aiodataloader import DataLoader

from connectors.errors import ConnectorError
from connectors.records import ApplicationRecord, CitizenRecord, ComplaintRecord
from schema.sources import Sources
from schema.trace import SourceTrace

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: Keys per source call; larger batches are split by aiodataloader.
MAX_BATCH = 1000


def _one_each(
    trace: SourceTrace,
    source: str,
    operation: str,
    fetch: Callable[[Sequence[K]], Awaitable[Mapping[K, V]]],
) -> Callable[[list[K]], Awaitable[list[V | None | Exception]]]:
    async def batch(keys: list[K]) -> list[V | None | Exception]:
        with trace.measure(source, operation) as measurement:
            try:
                found = await fetch(keys)
            except ConnectorError as exc:
                return [exc] * len(keys)
            measurement.items = len(found)
        return [found.get(key) for key in keys]

    return batch


def _many_each(
    trace: SourceTrace,
    source: str,
    operation: str,
    fetch: Callable[[Sequence[K]], Awaitable[Mapping[K, list[V]]]],
) -> Callable[[list[K]], Awaitable[list[list[V] | Exception]]]:
    async def batch(keys: list[K]) -> list[list[V] | Exception]:
        with trace.measure(source, operation) as measurement:
            try:
                found = await fetch(keys)
            except ConnectorError as exc:
                return [exc] * len(keys)
            measurement.items = sum(len(v) for v in found.values())
        return [found.get(key, []) for key in keys]

    return batch


def _loader(batch: Callable[[list[Any]], Awaitable[list[Any]]]) -> DataLoader:
    return DataLoader(batch, max_batch_size=MAX_BATCH)


@dataclass(frozen=True, slots=True)
class Loaders:
    citizen: DataLoader  # NIK -> CitizenRecord | None
    family_members: DataLoader  # NO_KK -> list[CitizenRecord]
    application: DataLoader  # number -> ApplicationRecord | None
    applications_of: DataLoader  # applicant NIK -> list[ApplicationRecord]
    complaint: DataLoader  # number -> ComplaintRecord | None
    complaints_of: DataLoader  # reporter NIK -> list[ComplaintRecord]

    @classmethod
    def create(cls, sources: Sources, trace: SourceTrace) -> Loaders:
        pop, lic, com = sources.population, sources.licensing, sources.complaints
        return cls(
            citizen=_loader(_one_each(trace, pop.source_id, "citizens_by_nik", pop.citizens_by_nik)),
            family_members=_loader(
                _many_each(trace, pop.source_id, "families_by_number", pop.families_by_number)
            ),
            application=_loader(
                _one_each(trace, lic.source_id, "applications_by_number", lic.applications_by_number)
            ),
            applications_of=_loader(
                _many_each(
                    trace, lic.source_id, "applications_by_applicant", lic.applications_by_applicant
                )
            ),
            complaint=_loader(
                _one_each(trace, com.source_id, "complaints_by_number", com.complaints_by_number)
            ),
            complaints_of=_loader(
                _many_each(
                    trace, com.source_id, "complaints_by_reporter", com.complaints_by_reporter
                )
            ),
        )

    def prime_citizens(self, records: Sequence[CitizenRecord]) -> None:
        for record in records:
            self.citizen.prime(record.nik, record)

    def prime_applications(self, records: Sequence[ApplicationRecord]) -> None:
        for record in records:
            self.application.prime(record.number, record)

    def prime_complaints(self, records: Sequence[ComplaintRecord]) -> None:
        for record in records:
            self.complaint.prime(record.number, record)
