"""An in-memory complaint system: newest first, keyset cursors, submit, workflow checks."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from connectors._support import (
    KELURAHAN_PATTERN,
    NIK_PATTERN,
    WIB,
    aware,
    check_page,
    decode_keyset_cursor,
    encode_keyset_cursor,
    unique,
)
from connectors.complaints import codes
from connectors.errors import RecordNotFound, SourceRejected
from connectors.memory._base import MemorySource, keyset_page
from connectors.records import (
    ComplaintFilter,
    ComplaintRecord,
    ComplaintStatus,
    NewComplaint,
    Page,
    PageRequest,
    StatusChange,
)

_TICKET_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _newest_first(c: ComplaintRecord) -> tuple[datetime, str]:
    return (c.submitted_at, c.number)


class InMemoryComplaintSource(MemorySource):
    def __init__(
        self,
        complaints: Iterable[ComplaintRecord] = (),
        *,
        categories: Iterable[str] | None = None,
        source_id: str = "complaints",
        clock: Callable[[], datetime] = lambda: datetime.now(WIB),
    ) -> None:
        super().__init__(source_id)
        self._by_number = {c.number: c for c in complaints}
        self._clock = clock
        self._idempotent: dict[str, ComplaintRecord] = {}
        names = (
            categories
            if categories is not None
            else (c.category for c in self._by_number.values())
        )
        self._categories = sorted(set(names))
        for c in sorted(self._by_number.values(), key=_newest_first):
            self._append_change(c.number, c.submitted_at)

    async def complaints_by_number(
        self, numbers: Sequence[str]
    ) -> dict[str, ComplaintRecord]:
        self._enter("complaints_by_number")
        return {n: self._by_number[n] for n in unique(numbers) if n in self._by_number}

    async def complaints_by_reporter(
        self, niks: Sequence[str]
    ) -> dict[str, list[ComplaintRecord]]:
        self._enter("complaints_by_reporter")
        wanted = set(niks)
        grouped: dict[str, list[ComplaintRecord]] = {}
        for c in self._newest():
            if c.reporter_nik in wanted:
                grouped.setdefault(c.reporter_nik, []).append(c)
        return grouped

    async def list_complaints(
        self, flt: ComplaintFilter, page: PageRequest
    ) -> Page[ComplaintRecord]:
        operation = "list_complaints"
        self._enter(operation)
        check_page(page, source=self.source_id, operation=operation)
        after = None
        if page.after is not None:
            at, number = decode_keyset_cursor(
                page.after, source=self.source_id, operation=operation
            )
            after = (aware(at), number)
        return keyset_page(
            [c for c in self._newest() if _matches(c, flt)],
            page,
            key=_newest_first,
            after=after,
            descending=True,
            cursor_of=lambda c: encode_keyset_cursor(c.submitted_at, c.number),
        )

    async def categories(self) -> list[str]:
        self._enter("categories")
        return list(self._categories)

    async def submit(
        self, complaint: NewComplaint, *, idempotency_key: str | None = None
    ) -> ComplaintRecord:
        operation = "submit"
        self._enter(operation)
        if idempotency_key is not None and idempotency_key in self._idempotent:
            return self._idempotent[idempotency_key]
        problem = _invalid(complaint)
        if problem:
            raise SourceRejected(
                self.source_id,
                f"{problem} [PERMINTAAN_TIDAK_VALID]",
                operation=operation,
            )
        now = self._clock()
        number = f"LPR-{now.year}-" + "".join(
            secrets.choice(_TICKET_ALPHABET) for _ in range(6)
        )
        code = codes.STATUS_CODES[ComplaintStatus.RECEIVED]
        record = ComplaintRecord(
            number=number,
            title=complaint.title,
            content=complaint.content,
            classification=complaint.classification,
            category=complaint.category,
            kelurahan_code=complaint.kelurahan_code,
            location=complaint.location,
            channel=complaint.channel,
            visibility=complaint.visibility,
            reporter_nik=complaint.reporter_nik,
            submitted_at=now,
            status=ComplaintStatus.RECEIVED,
            source_status=code,
            history=(StatusChange(ComplaintStatus.RECEIVED, code, now),),
        )
        self._by_number[number] = record
        self._append_change(number, now)
        if idempotency_key is not None:
            self._idempotent[idempotency_key] = record
        return record

    async def update_status(
        self,
        number: str,
        status: ComplaintStatus,
        *,
        note: str | None,
        actor: str,
        idempotency_key: str | None = None,
    ) -> ComplaintRecord:
        operation = "update_status"
        self._enter(operation)
        if idempotency_key is not None and idempotency_key in self._idempotent:
            return self._idempotent[idempotency_key]
        current = self._by_number.get(number)
        if current is None:
            raise RecordNotFound(
                self.source_id, f"no complaint {number}", operation=operation
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
        )
        self._by_number[number] = updated
        self._append_change(number, now)
        if idempotency_key is not None:
            self._idempotent[idempotency_key] = updated
        return updated

    def _newest(self) -> list[ComplaintRecord]:
        return sorted(self._by_number.values(), key=_newest_first, reverse=True)


def _invalid(c: NewComplaint) -> str | None:
    if not c.title.strip() or not c.content.strip():
        return "title and content are required"
    if not c.category.strip():
        return "category is required"
    if not KELURAHAN_PATTERN.fullmatch(c.kelurahan_code):
        return "kelurahan code must be 10 digits"
    if c.reporter_nik is not None and not NIK_PATTERN.fullmatch(c.reporter_nik):
        return "reporter NIK must be 16 digits"
    return None


def _matches(c: ComplaintRecord, flt: ComplaintFilter) -> bool:
    checks = (
        (flt.reporter_niks, c.reporter_nik),
        (flt.kelurahan_codes, c.kelurahan_code),
        (flt.statuses, c.status),
        (flt.categories, c.category),
        (flt.classifications, c.classification),
        (flt.visibilities, c.visibility),
    )
    if any(allowed is not None and value not in allowed for allowed, value in checks):
        return False
    submitted = c.submitted_at.astimezone(WIB).date()
    if flt.submitted_from is not None and submitted < flt.submitted_from:
        return False
    return flt.submitted_to is None or submitted <= flt.submitted_to
