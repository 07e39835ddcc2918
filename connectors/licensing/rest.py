"""The licensing system over its REST API (SiCantik-style `permohonan`)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence

import httpx

from connectors._rest import RestCollection
from connectors._support import check_page
from connectors.errors import SourceUnavailable
from connectors.http import SourceHttpClient, path_key
from connectors.licensing import codes
from connectors.licensing.parsing import parse_application, search_body
from connectors.records import (
    ApplicationFilter,
    ApplicationRecord,
    ApplicationStatus,
    ChangeBatch,
    Page,
    PageRequest,
    PermitType,
)

log = logging.getLogger("connectors.licensing")

COLLECTION = "/api/v1/permohonan"


class RestLicensingSource:
    def __init__(
        self,
        base_url: str,
        *,
        api_key: str,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int = 20,
        source_id: str = "licensing",
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
        self._applications = RestCollection(
            http,
            path=COLLECTION,
            key_field="no_permohonan",
            parse=parse_application,
            logger=log,
        )
        self._http = http

    @property
    def skipped(self) -> Counter[str]:
        """Records left out because they could not be mapped, by reason."""
        return self._applications.skipped

    async def check(self) -> None:
        await self._applications.health()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def applications_by_number(
        self, numbers: Sequence[str]
    ) -> dict[str, ApplicationRecord]:
        wanted = set(numbers)
        found = await self._applications.by_keys(
            "no_permohonan", numbers, "applications_by_number"
        )
        return {r.number: r for r in found if r.number in wanted}

    async def applications_by_applicant(
        self, niks: Sequence[str]
    ) -> dict[str, list[ApplicationRecord]]:
        wanted = set(niks)
        found = await self._applications.all_by_keys(
            "nik_pemohon", niks, "applications_by_applicant"
        )
        grouped: dict[str, list[ApplicationRecord]] = {}
        for record in found:
            if record.applicant_nik in wanted:
                grouped.setdefault(record.applicant_nik, []).append(record)
        for records in grouped.values():
            records.sort(key=lambda r: (r.received_at, r.number), reverse=True)
        return grouped

    async def list_applications(
        self, flt: ApplicationFilter, page: PageRequest
    ) -> Page[ApplicationRecord]:
        operation = "list_applications"
        check_page(page, source=self.source_id, operation=operation)
        body = search_body(flt)
        if body is None:
            return Page(
                items=[],
                end_cursor=None,
                has_next=False,
                total=0 if page.with_total else None,
            )
        body.update(
            limit=max(page.first, 1), cursor=page.after, include_total=page.with_total
        )
        result = await self._applications.search(body, operation)
        if page.first == 0:
            return Page([], None, result.raw_count > 0, result.total)
        return Page(
            items=result.records,
            end_cursor=result.next_cursor,
            has_next=result.next_cursor is not None,
            total=result.total if page.with_total else None,
        )

    async def permit_types(self) -> list[PermitType]:
        operation = "permit_types"
        answer = await self._http.request(
            "GET", "/api/v1/jenis-izin", operation=operation
        )
        try:
            return [
                PermitType(
                    code=str(i["kode"]),
                    name=str(i["nama"]),
                    service_level_days=int(i["sla_hari"]),
                )
                for i in self._applications.data_list(answer, operation)
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise SourceUnavailable(
                self.source_id, "malformed permit type list", operation=operation
            ) from exc

    async def update_status(
        self,
        number: str,
        status: ApplicationStatus,
        *,
        note: str | None,
        actor: str,
        idempotency_key: str | None = None,
    ) -> ApplicationRecord:
        return await self._applications.one(
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
        return await self._applications.changes(cursor, limit)
