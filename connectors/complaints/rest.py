"""The complaint system over its REST API (LAPOR!-style `laporan`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from connectors._rest import RestSource
from connectors.complaints import codes
from connectors.complaints.parsing import parse_complaint, search_body, submit_body
from connectors.errors import SourceUnavailable
from connectors.records import (
    ComplaintFilter,
    ComplaintRecord,
    ComplaintStatus,
    NewComplaint,
    Page,
    PageRequest,
)


class RestComplaintSource(RestSource[ComplaintRecord, ComplaintStatus]):
    """`skipped`, `check`, `aclose`, `update_status` and `changes_since` come from
    `RestSource`."""

    path = "/api/v1/laporan"
    key_field = "no_tiket"
    parse = staticmethod(parse_complaint)
    status_codes = codes.STATUS_CODES
    log = logging.getLogger("connectors.complaints")
    default_source_id = "complaints"

    async def complaints_by_number(
        self, numbers: Sequence[str]
    ) -> dict[str, ComplaintRecord]:
        return await self._by_number(
            "no_tiket", numbers, "complaints_by_number", number_of=lambda r: r.number
        )

    async def complaints_by_reporter(
        self, niks: Sequence[str]
    ) -> dict[str, list[ComplaintRecord]]:
        return await self._by_person(
            "nik_pelapor",
            niks,
            "complaints_by_reporter",
            nik_of=lambda r: r.reporter_nik,
            newest_first=lambda r: (r.submitted_at, r.number),
        )

    async def list_complaints(
        self, flt: ComplaintFilter, page: PageRequest
    ) -> Page[ComplaintRecord]:
        return await self._list(page, "list_complaints", body=lambda: search_body(flt))

    async def categories(self) -> list[str]:
        operation = "categories"
        answer = await self._http.request(
            "GET", "/api/v1/kategori", operation=operation
        )
        items = self._records.data_list(answer, operation)
        if not all(isinstance(item, str) for item in items):
            raise SourceUnavailable(
                self.source_id, "malformed category list", operation=operation
            )
        return list(items)

    async def submit(
        self, complaint: NewComplaint, *, idempotency_key: str | None = None
    ) -> ComplaintRecord:
        return await self._records.one(
            "POST",
            self.path,
            "submit",
            json=submit_body(complaint),
            idempotency_key=idempotency_key,
        )
