"""An in-memory licensing system: newest first, keyset cursors, workflow checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from connectors._support import WIB
from connectors.licensing import codes
from connectors.memory._records import WorkflowMemorySource
from connectors.records import (
    APPLICATION_FINISHED,
    ApplicationFilter,
    ApplicationRecord,
    ApplicationStatus,
    Page,
    PageRequest,
    PermitType,
)


def _now() -> datetime:
    return datetime.now(WIB)


class InMemoryLicensingSource(WorkflowMemorySource[ApplicationRecord, ApplicationStatus]):
    """`update_status` and the change feed come from `WorkflowMemorySource`."""

    noun = "application"
    status_codes = codes.STATUS_CODES
    transitions = codes.TRANSITIONS

    @staticmethod
    def newest_first(record: ApplicationRecord) -> tuple[datetime, str]:
        return (record.received_at, record.number)

    def __init__(
        self,
        applications: Iterable[ApplicationRecord] = (),
        *,
        permit_types: Iterable[PermitType] | None = None,
        source_id: str = "licensing",
        clock: Callable[[], datetime] = _now,
    ) -> None:
        super().__init__(applications, source_id=source_id, clock=clock)
        types = self._given_or_seen(permit_types, lambda a: a.permit_type)
        self._permit_types = sorted({t.code: t for t in types}.values(), key=lambda t: t.code)

    async def applications_by_number(
        self, numbers: Sequence[str]
    ) -> dict[str, ApplicationRecord]:
        return self._numbers("applications_by_number", numbers)

    async def applications_by_applicant(
        self, niks: Sequence[str]
    ) -> dict[str, list[ApplicationRecord]]:
        return self._per_person(
            "applications_by_applicant", niks, lambda a: a.applicant_nik
        )

    async def list_applications(
        self, flt: ApplicationFilter, page: PageRequest
    ) -> Page[ApplicationRecord]:
        return self._page("list_applications", page, lambda a: _matches(a, flt))

    async def permit_types(self) -> list[PermitType]:
        self._enter("permit_types")
        return list(self._permit_types)

    def _status_extras(
        self, current: ApplicationRecord, status: ApplicationStatus, now: datetime
    ) -> dict[str, Any]:
        finished = now if status in APPLICATION_FINISHED else current.finished_at
        return {"finished_at": finished}


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
