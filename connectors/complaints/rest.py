"""The complaint system over its REST API (LAPOR!-style `laporan`)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence

import httpx

from connectors._rest import RestCollection
from connectors._support import check_page
from connectors.complaints import codes
from connectors.complaints.parsing import parse_complaint, search_body, submit_body
from connectors.errors import SourceUnavailable
from connectors.http import SourceHttpClient, path_key
from connectors.records import (
    ChangeBatch,
    ComplaintFilter,
    ComplaintRecord,
    ComplaintStatus,
    NewComplaint,
    Page,
    PageRequest,
)

log = logging.getLogger("connectors.complaints")

COLLECTION = "/api/v1/laporan"


class RestComplaintSource:
    def __init__(
        self,
        base_url: str,
        *,
        api_key: str,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int = 20,
        source_id: str = "complaints",
    ) -> None:
        self.source_id = source_id
        http = SourceHttpClient(
            base_url,
            api_key=api_key,
            source_id=source_id,
            timeout=timeout,
            transport=transport,
            max_connections=max_connections,
        )
        self._complaints = RestCollection(
            http,
            path=COLLECTION,
            key_field="no_tiket",
            parse=parse_complaint,
            logger=log,
        )
        self._http = http

    @property
    def skipped(self) -> Counter[str]:
        """Records left out because they could not be mapped, by reason."""
        return self._complaints.skipped

    async def check(self) -> None:
        await self._complaints.health()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def complaints_by_number(
        self, numbers: Sequence[str]
    ) -> dict[str, ComplaintRecord]:
        wanted = set(numbers)
        found = await self._complaints.by_keys(
            "no_tiket", numbers, "complaints_by_number"
        )
        return {r.number: r for r in found if r.number in wanted}

    async def complaints_by_reporter(
        self, niks: Sequence[str]
    ) -> dict[str, list[ComplaintRecord]]:
        wanted = set(niks)
        found = await self._complaints.all_by_keys(
            "nik_pelapor", niks, "complaints_by_reporter"
        )
        grouped: dict[str, list[ComplaintRecord]] = {}
        for record in found:
            if record.reporter_nik in wanted:
                grouped.setdefault(record.reporter_nik, []).append(record)
        for records in grouped.values():
            records.sort(key=lambda r: (r.submitted_at, r.number), reverse=True)
        return grouped

    async def list_complaints(
        self, flt: ComplaintFilter, page: PageRequest
    ) -> Page[ComplaintRecord]:
        operation = "list_complaints"
        check_page(page, source=self.source_id, operation=operation)
        body = search_body(flt)
        if body is None:
            return Page([], None, False, 0 if page.with_total else None)
        body.update(
            limit=max(page.first, 1), cursor=page.after, include_total=page.with_total
        )
        result = await self._complaints.search(body, operation)
        total = result.total if page.with_total else None
        if page.first == 0:
            return Page([], None, result.raw_count > 0, total)
        return Page(
            result.records, result.next_cursor, result.next_cursor is not None, total
        )

    async def categories(self) -> list[str]:
        operation = "categories"
        answer = await self._http.request(
            "GET", "/api/v1/kategori", operation=operation
        )
        items = self._complaints.data_list(answer, operation)
        if not all(isinstance(item, str) for item in items):
            raise SourceUnavailable(
                self.source_id, "malformed category list", operation=operation
            )
        return list(items)

    async def submit(
        self, complaint: NewComplaint, *, idempotency_key: str | None = None
    ) -> ComplaintRecord:
        return await self._complaints.one(
            "POST",
            COLLECTION,
            "submit",
            json=submit_body(complaint),
            idempotency_key=idempotency_key,
        )

    async def update_status(
        self,
        number: str,
        status: ComplaintStatus,
        *,
        note: str | None,
        actor: str,
        idempotency_key: str | None = None,
    ) -> ComplaintRecord:
        return await self._complaints.one(
            "POST",
            f"{COLLECTION}/{path_key(number)}/status",
            "update_status",
            json={
                "status": codes.STATUS_CODES[status],
                "catatan": note,
                "petugas": actor,
            },
            idempotency_key=idempotency_key,
        )

    async def changes_since(self, cursor: str | None, limit: int = 1000) -> ChangeBatch:
        return await self._complaints.changes(cursor, limit)
