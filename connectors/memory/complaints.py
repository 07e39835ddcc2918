"""An in-memory complaint system: newest first, keyset cursors, submit, workflow checks."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from connectors._support import KELURAHAN_PATTERN, NIK_PATTERN, WIB
from connectors.complaints import codes
from connectors.errors import SourceRejected
from connectors.memory._records import WorkflowMemorySource
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


def _now() -> datetime:
    return datetime.now(WIB)


class InMemoryComplaintSource(WorkflowMemorySource[ComplaintRecord, ComplaintStatus]):
    """`update_status` and the change feed come from `WorkflowMemorySource`."""

    noun = "complaint"
    status_codes = codes.STATUS_CODES
    transitions = codes.TRANSITIONS

    @staticmethod
    def newest_first(record: ComplaintRecord) -> tuple[datetime, str]:
        return (record.submitted_at, record.number)

    def __init__(
        self,
        complaints: Iterable[ComplaintRecord] = (),
        *,
        categories: Iterable[str] | None = None,
        source_id: str = "complaints",
        clock: Callable[[], datetime] = _now,
    ) -> None:
        super().__init__(complaints, source_id=source_id, clock=clock)
        self._categories = sorted(set(self._given_or_seen(categories, lambda c: c.category)))

    async def complaints_by_number(
        self, numbers: Sequence[str]
    ) -> dict[str, ComplaintRecord]:
        return self._numbers("complaints_by_number", numbers)

    async def complaints_by_reporter(
        self, niks: Sequence[str]
    ) -> dict[str, list[ComplaintRecord]]:
        return self._per_person("complaints_by_reporter", niks, lambda c: c.reporter_nik)

    async def list_complaints(
        self, flt: ComplaintFilter, page: PageRequest
    ) -> Page[ComplaintRecord]:
        return self._page("list_complaints", page, lambda c: _matches(c, flt))

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
                f"the {self.source_id} source refused the request",
                operation=operation,
                source_says=f"{problem} [PERMINTAAN_TIDAK_VALID]",
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
        self._store(record, now, idempotency_key)
        return record


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
