"""An in-memory licensing system: newest first, keyset cursors, workflow checks."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from connectors._support import (
    WIB,
    aware,
    check_page,
    decode_keyset_cursor,
    encode_keyset_cursor,
    unique,
)
from connectors.errors import RecordNotFound, SourceRejected
from connectors.licensing import codes
from connectors.memory._base import MemorySource, keyset_page
from connectors.records import (
    APPLICATION_FINISHED,
    ApplicationFilter,
    ApplicationRecord,
    ApplicationStatus,
    Page,
    PageRequest,
    PermitType,
    StatusChange,
)


def _newest_first(r: ApplicationRecord) -> tuple[datetime, str]:
    return (r.received_at, r.number)


class InMemoryLicensingSource(MemorySource):
    def __init__(
        self,
        applications: Iterable[ApplicationRecord] = (),
        *,
        permit_types: Iterable[PermitType] | None = None,
        source_id: str = "licensing",
        clock: Callable[[], datetime] = lambda: datetime.now(WIB),
    ) -> None:
        super().__init__(source_id)
        self._by_number = {a.number: a for a in applications}
        self._clock = clock
        self._idempotent: dict[str, ApplicationRecord] = {}
        types = (
            permit_types
            if permit_types is not None
            else (a.permit_type for a in self._by_number.values())
        )
        self._permit_types = sorted(
            {t.code: t for t in types}.values(), key=lambda t: t.code
        )
        for a in sorted(self._by_number.values(), key=_newest_first):
            self._append_change(a.number, a.received_at)

    async def applications_by_number(
        self, numbers: Sequence[str]
    ) -> dict[str, ApplicationRecord]:
        self._enter("applications_by_number")
        return {n: self._by_number[n] for n in unique(numbers) if n in self._by_number}

    async def applications_by_applicant(
        self, niks: Sequence[str]
    ) -> dict[str, list[ApplicationRecord]]:
        self._enter("applications_by_applicant")
        wanted = set(niks)
        grouped: dict[str, list[ApplicationRecord]] = {}
        for a in self._newest():
            if a.applicant_nik in wanted:
                grouped.setdefault(a.applicant_nik, []).append(a)
        return grouped

    async def list_applications(
        self, flt: ApplicationFilter, page: PageRequest
    ) -> Page[ApplicationRecord]:
        operation = "list_applications"
        self._enter(operation)
        check_page(page, source=self.source_id, operation=operation)
        after = None
        if page.after is not None:
            at, number = decode_keyset_cursor(
                page.after, source=self.source_id, operation=operation
            )
            after = (aware(at), number)
        return keyset_page(
            [a for a in self._newest() if _matches(a, flt)],
            page,
            key=_newest_first,
            after=after,
            descending=True,
            cursor_of=lambda a: encode_keyset_cursor(a.received_at, a.number),
        )

    async def permit_types(self) -> list[PermitType]:
        self._enter("permit_types")
        return list(self._permit_types)

    async def update_status(
        self,
        number: str,
        status: ApplicationStatus,
        *,
        note: str | None,
        actor: str,
        idempotency_key: str | None = None,
    ) -> ApplicationRecord:
        operation = "update_status"
        self._enter(operation)
        if idempotency_key is not None and idempotency_key in self._idempotent:
            return self._idempotent[idempotency_key]
        current = self._by_number.get(number)
        if current is None:
            raise RecordNotFound(
                self.source_id, f"no application {number}", operation=operation
            )
        if status not in codes.TRANSITIONS[current.status]:
            raise SourceRejected(
                self.source_id,
                f"status change {current.source_status} → {codes.STATUS_CODES[status]} "
                "not allowed [TRANSISI_TIDAK_VALID]",
                operation=operation,
            )
        now = self._clock()
        code = codes.STATUS_CODES[status]
        updated = dataclasses.replace(
            current,
            status=status,
            source_status=code,
            history=(*current.history, StatusChange(status, code, now, note)),
            finished_at=now if status in APPLICATION_FINISHED else current.finished_at,
        )
        self._by_number[number] = updated
        self._append_change(number, now)
        if idempotency_key is not None:
            self._idempotent[idempotency_key] = updated
        return updated

    def _newest(self) -> list[ApplicationRecord]:
        return sorted(self._by_number.values(), key=_newest_first, reverse=True)


def _matches(a: ApplicationRecord, flt: ApplicationFilter) -> bool:
    if flt.applicant_niks is not None and a.applicant_nik not in flt.applicant_niks:
        return False
    if flt.kelurahan_codes is not None and a.kelurahan_code not in flt.kelurahan_codes:
        return False
    if flt.statuses is not None and a.status not in flt.statuses:
        return False
    if flt.permit_types is not None and a.permit_type.code not in flt.permit_types:
        return False
    received = a.received_at.astimezone(WIB).date()
    if flt.received_from is not None and received < flt.received_from:
        return False
    if flt.received_to is not None and received > flt.received_to:
        return False
    if flt.name_contains:
        needle = flt.name_contains.lower()
        names = (a.applicant_name, a.company_name or "")
        return any(needle in name.lower() for name in names)
    return True
