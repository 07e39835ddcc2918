"""Per-request loaders: the only way resolvers reach the sources.

Every loader batches the keys asked for within one tick into one source call
(aiodataloader), records the call in the request's source trace (its items are the
records the caller is then shown, not what the source returned), and turns a
connector failure into a per-key exception so that only the affected paths fail.
Loaders capture the running event loop: create them per request, inside it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
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
    known: Mapping[K, V],
) -> Callable[[list[K]], Awaitable[list[V | None | Exception]]]:
    """A batch function answering from `known` (records a listing of this request
    already fetched) and asking the source for the rest, in one call."""

    async def batch(keys: list[K]) -> list[V | None | Exception]:
        missing = [key for key in keys if key not in known]
        found: Mapping[K, V] = {}
        if missing:
            with trace.measure(source, operation) as measurement:
                try:
                    found = await fetch(missing)
                except ConnectorError as exc:
                    return [known.get(key, exc) for key in keys]
                measurement.fetched(found.values())
        return [known[key] if key in known else found.get(key) for key in keys]

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
            for records in found.values():
                measurement.fetched(records)
        return [found.get(key, []) for key in keys]

    return batch


def _loader(batch: Callable[[list[Any]], Awaitable[list[Any]]]) -> DataLoader:
    return DataLoader(batch, max_batch_size=MAX_BATCH)


#: loader name -> (source, its batch look-up, whether one record per key: such loaders
#: also answer from the records a listing of the request already fetched)
_KINDS: dict[str, tuple[str, str, bool]] = {
    "citizen": ("population", "citizens_by_nik", True),
    "family_members": ("population", "families_by_number", False),
    "application": ("licensing", "applications_by_number", True),
    "applications_of": ("licensing", "applications_by_applicant", False),
    "complaint": ("complaints", "complaints_by_number", True),
    "complaints_of": ("complaints", "complaints_by_reporter", False),
}


class Loaders:
    """The request's loaders, each made when first used (most requests use one or two).

    Records a root listing fetched are remembered (`prime_*`), and a later look-up by
    key in the same request is answered from them without a source call."""

    __slots__ = ("_known", "_loaders", "_sources", "_trace")

    def __init__(self, sources: Sources, trace: SourceTrace) -> None:
        self._sources = sources
        self._trace = trace
        self._loaders: dict[str, DataLoader] = {}
        self._known: dict[str, dict[str, Any]] = {name: {} for name, (_, _, one) in _KINDS.items() if one}

    @classmethod
    def create(cls, sources: Sources, trace: SourceTrace) -> Loaders:
        return cls(sources, trace)

    def release(self) -> None:
        """Forget the loaders and the records they hold (the request is over)."""
        self._loaders.clear()
        for known in self._known.values():
            known.clear()

    def _get(self, name: str) -> DataLoader:
        loader = self._loaders.get(name)
        if loader is None:
            loader = self._loaders[name] = _loader(self._batch(name))
        return loader

    def _batch(self, name: str) -> Callable[[list[Any]], Awaitable[list[Any]]]:
        source_name, operation, one_each = _KINDS[name]
        source = getattr(self._sources, source_name)
        fetch = getattr(source, operation)
        if one_each:
            return _one_each(self._trace, source.source_id, operation, fetch, self._known[name])
        return _many_each(self._trace, source.source_id, operation, fetch)

    @property
    def citizen(self) -> DataLoader:  # NIK -> CitizenRecord | None
        return self._get("citizen")

    @property
    def family_members(self) -> DataLoader:  # NO_KK -> list[CitizenRecord]
        return self._get("family_members")

    @property
    def application(self) -> DataLoader:  # number -> ApplicationRecord | None
        return self._get("application")

    @property
    def applications_of(self) -> DataLoader:  # applicant NIK -> list[ApplicationRecord]
        return self._get("applications_of")

    @property
    def complaint(self) -> DataLoader:  # number -> ComplaintRecord | None
        return self._get("complaint")

    @property
    def complaints_of(self) -> DataLoader:  # reporter NIK -> list[ComplaintRecord]
        return self._get("complaints_of")

    def of_plugin(self, source_id: str, operation: str, *, one_each: bool) -> DataLoader:
        """A loader over a plug-in's source (schema.plugins): `operation` is its batch
        look-up (keys -> record, or keys -> list of records when not `one_each`)."""
        name = f"{source_id}.{operation}"
        loader = self._loaders.get(name)
        if loader is None:
            source = self._sources.extra[source_id]
            fetch = getattr(source, operation)
            batch = (_one_each(self._trace, source_id, operation, fetch, {}) if one_each
                     else _many_each(self._trace, source_id, operation, fetch))
            loader = self._loaders[name] = _loader(batch)
        return loader

    def prime_citizens(self, records: Sequence[CitizenRecord]) -> None:
        self._remember("citizen", {record.nik: record for record in records})

    def prime_applications(self, records: Sequence[ApplicationRecord]) -> None:
        self._remember("application", {record.number: record for record in records})

    def prime_complaints(self, records: Sequence[ComplaintRecord]) -> None:
        self._remember("complaint", {record.number: record for record in records})

    def _remember(self, kind: str, records: dict[str, Any]) -> None:
        known = self._known[kind]
        for key, record in records.items():
            known.setdefault(key, record)
