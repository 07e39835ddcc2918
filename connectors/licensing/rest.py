"""The licensing system over its REST API (SiCantik-style `permohonan`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from connectors._rest import RestSource
from connectors.errors import SourceUnavailable
from connectors.licensing import codes
from connectors.licensing.intake import LicensingIntake
from connectors.licensing.parsing import parse_application, search_body
from connectors.records import (
    ApplicationFilter,
    ApplicationRecord,
    ApplicationStatus,
    Page,
    PageRequest,
    PermitType,
)


class RestLicensingSource(LicensingIntake, RestSource[ApplicationRecord, ApplicationStatus]):
    """`skipped`, `check`, `aclose`, `update_status` and `changes_since` come from
    `RestSource`; online applications and documents from `LicensingIntake`."""

    path = "/api/v1/permohonan"
    key_field = "no_permohonan"
    parse = staticmethod(parse_application)
    status_codes = codes.STATUS_CODES
    log = logging.getLogger("connectors.licensing")
    default_source_id = "licensing"

    async def applications_by_number(
        self, numbers: Sequence[str]
    ) -> dict[str, ApplicationRecord]:
        return await self._by_number(
            "no_permohonan",
            numbers,
            "applications_by_number",
            number_of=lambda r: r.number,
        )

    async def applications_by_applicant(
        self, niks: Sequence[str]
    ) -> dict[str, list[ApplicationRecord]]:
        return await self._by_person(
            "nik_pemohon",
            niks,
            "applications_by_applicant",
            nik_of=lambda r: r.applicant_nik,
            newest_first=lambda r: (r.received_at, r.number),
        )

    async def list_applications(
        self, flt: ApplicationFilter, page: PageRequest
    ) -> Page[ApplicationRecord]:
        return await self._list(
            page, "list_applications", body=lambda: search_body(flt)
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
                for i in self._records.data_list(answer, operation)
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise SourceUnavailable(
                self.source_id, "malformed permit type list", operation=operation
            ) from exc
