"""The in-memory workflow systems' shared half: records by number, newest-first keyset
pages, idempotent writes and status changes checked against the transition table."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast

from connectors._support import (
    aware,
    check_page,
    decode_keyset_cursor,
    encode_keyset_cursor,
    unique,
)
from connectors.errors import RecordNotFound, SourceRejected
from connectors.memory._base import MemorySource, keyset_page
from connectors.records import (
    ApplicationStatus,
    ComplaintStatus,
    Page,
    PageRequest,
    StatusChange,
)


class WorkflowRecord(Protocol):
    @property
    def number(self) -> str: ...

    @property
    def status(self) -> Any: ...

    @property
    def source_status(self) -> str: ...

    @property
    def history(self) -> tuple[StatusChange, ...]: ...


R = TypeVar("R", bound=WorkflowRecord)
S = TypeVar("S", ApplicationStatus, ComplaintStatus)
T = TypeVar("T")


class WorkflowMemorySource(MemorySource, Generic[R, S]):
    """Records `R` keyed by number, ordered by `newest_first` (time, number); their
    statuses `S` change along `transitions` and are stored as `status_codes`. A
    subclass names these four as class attributes."""

    noun: ClassVar[str]
    status_codes: ClassVar[Mapping[Any, str]]
    transitions: ClassVar[Mapping[Any, frozenset[Any]]]

    @staticmethod
    def newest_first(record: Any) -> tuple[datetime, str]:
        raise NotImplementedError

    def __init__(self, records: Iterable[R], *, source_id: str, clock: Callable[[], datetime]) -> None:
        super().__init__(source_id)
        self._by_number: dict[str, R] = {r.number: r for r in records}
        self._clock = clock
        self._idempotent: dict[str, R] = {}
        for r in sorted(self._by_number.values(), key=self.newest_first):
            self._append_change(r.number, self.newest_first(r)[0])

    def _given_or_seen(self, given: Iterable[T] | None, of: Callable[[R], T]) -> Iterable[T]:
        """A reference list as given, or else what the records hold."""
        return given if given is not None else (of(r) for r in self._by_number.values())

    async def update_status(
        self,
        number: str,
        status: S,
        *,
        note: str | None,
        actor: str,
        idempotency_key: str | None = None,
    ) -> R:
        operation = "update_status"
        self._enter(operation)
        if idempotency_key is not None and idempotency_key in self._idempotent:
            return self._idempotent[idempotency_key]
        current = self._by_number.get(number)
        if current is None:
            raise RecordNotFound(
                self.source_id, f"no {self.noun} {number}", operation=operation
            )
        if status not in self.transitions[current.status]:  # answered like the real source
            raise SourceRejected(
                self.source_id,
                f"the {self.source_id} source refused the request",
                operation=operation,
                source_says=f"status change {current.source_status} → {self.status_codes[status]} "
                "not allowed [TRANSISI_TIDAK_VALID]",
            )
        now = self._clock()
        code = self.status_codes[status]
        history = (*current.history, StatusChange(status, code, now, note))  # type: ignore[has-type]
        changes: dict[str, Any] = {
            "status": status,
            "source_status": code,
            "history": history,
            **self._status_extras(current, status, now),
        }
        updated = cast(R, dataclasses.replace(cast(Any, current), **changes))
        self._store(updated, now, idempotency_key)
        return updated

    def _status_extras(self, current: R, status: S, now: datetime) -> dict[str, Any]:
        """More fields a status change sets (none here)."""
        return {}

    def _store(self, record: R, at: datetime, idempotency_key: str | None) -> None:
        """Keep a written record, note it in the change feed, remember its key."""
        self._by_number[record.number] = record
        self._append_change(record.number, at)
        if idempotency_key is not None:
            self._idempotent[idempotency_key] = record

    def _numbers(self, operation: str, numbers: Sequence[str]) -> dict[str, R]:
        self._enter(operation)
        return {n: self._by_number[n] for n in unique(numbers) if n in self._by_number}

    def _per_person(
        self, operation: str, niks: Sequence[str], nik_of: Callable[[R], str | None]
    ) -> dict[str, list[R]]:
        """Records per NIK, newest first."""
        self._enter(operation)
        wanted = set(niks)
        grouped: dict[str, list[R]] = {}
        for r in self._newest():
            nik = nik_of(r)
            if nik is not None and nik in wanted:
                grouped.setdefault(nik, []).append(r)
        return grouped

    def _page(
        self, operation: str, page: PageRequest, matches: Callable[[R], bool]
    ) -> Page[R]:
        """One newest-first page of the records that `matches`."""
        self._enter(operation)
        check_page(page, source=self.source_id, operation=operation)
        after = None
        if page.after is not None:
            at, number = decode_keyset_cursor(
                page.after, source=self.source_id, operation=operation
            )
            after = (aware(at), number)
        return keyset_page(
            [r for r in self._newest() if matches(r)],
            page,
            key=self.newest_first,
            after=after,
            descending=True,
            cursor_of=lambda r: encode_keyset_cursor(*self.newest_first(r)),
        )

    def _newest(self) -> list[R]:
        return sorted(self._by_number.values(), key=self.newest_first, reverse=True)
