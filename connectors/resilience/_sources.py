"""Guarded sources: each implements its source protocol by explicit delegation, every
call going through the source's `Guard` (so types stay checkable and nothing is
forwarded by accident)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager

from connectors.errors import SourceUnavailable
from connectors.http import PoolState
from connectors.protocols import (
    ApplicationIntake,
    ComplaintSource,
    LicensingSource,
    PooledSource,
    PopulationSource,
    Source,
)
from connectors.records import (
    ApplicationFilter,
    ApplicationRecord,
    ApplicationStatus,
    ChangeBatch,
    CitizenFilter,
    CitizenRecord,
    ComplaintFilter,
    ComplaintRecord,
    ComplaintStatus,
    NewComplaint,
    Page,
    PageRequest,
    PermitType,
)
from connectors.records import DocumentRecord, DocumentUpload, NewApplication, PermitRequirement
from connectors.resilience._guard import Guard, SourceHealth
from connectors.resilience._policy import ResiliencePolicy


class _Guarded:
    def __init__(self, inner: Source, policy: ResiliencePolicy, *, guard: Guard | None = None) -> None:
        self.inner = inner
        self.source_id = inner.source_id
        self.guard = guard or Guard(inner.source_id, policy)

    def health(self) -> SourceHealth:
        return self.guard.health()

    def pool_state(self) -> PoolState | None:
        return self.inner.pool_state() if isinstance(self.inner, PooledSource) else None

    async def check(self) -> None:
        await self.guard.check(self.inner.check)

    async def aclose(self) -> None:
        await self.inner.aclose()


class GuardedPopulationSource(_Guarded):
    inner: PopulationSource

    def __init__(self, inner: PopulationSource, policy: ResiliencePolicy, *, guard: Guard | None = None) -> None:
        super().__init__(inner, policy, guard=guard)
        self.inner = inner

    async def citizens_by_nik(self, niks: Sequence[str]) -> dict[str, CitizenRecord]:
        return await self.guard.batch_read("citizens_by_nik", list(niks), self.inner.citizens_by_nik)

    async def families_by_number(self, numbers: Sequence[str]) -> dict[str, list[CitizenRecord]]:
        return await self.guard.batch_read("families_by_number", list(numbers), self.inner.families_by_number)

    async def list_citizens(self, flt: CitizenFilter, page: PageRequest) -> Page[CitizenRecord]:
        return await self.guard.cached_read(
            "list_citizens", (flt, page), lambda: self.inner.list_citizens(flt, page)
        )

    async def changes_since(self, cursor: str | None, limit: int = 1000) -> ChangeBatch:
        return await self.guard.read("changes_since", lambda: self.inner.changes_since(cursor, limit))


class GuardedLicensingSource(_Guarded):
    inner: LicensingSource

    def __init__(self, inner: LicensingSource, policy: ResiliencePolicy, *, guard: Guard | None = None) -> None:
        super().__init__(inner, policy, guard=guard)
        self.inner = inner

    async def applications_by_number(self, numbers: Sequence[str]) -> dict[str, ApplicationRecord]:
        return await self.guard.batch_read(
            "applications_by_number", list(numbers), self.inner.applications_by_number
        )

    async def applications_by_applicant(self, niks: Sequence[str]) -> dict[str, list[ApplicationRecord]]:
        return await self.guard.batch_read(
            "applications_by_applicant", list(niks), self.inner.applications_by_applicant
        )

    async def list_applications(self, flt: ApplicationFilter, page: PageRequest) -> Page[ApplicationRecord]:
        return await self.guard.cached_read(
            "list_applications", (flt, page), lambda: self.inner.list_applications(flt, page)
        )

    async def permit_types(self) -> list[PermitType]:
        return await self.guard.reference_read("permit_types", self.inner.permit_types)

    async def update_status(
        self,
        number: str,
        status: ApplicationStatus,
        *,
        note: str | None,
        actor: str,
        idempotency_key: str | None = None,
    ) -> ApplicationRecord:
        return await self.guard.write(
            "update_status",
            lambda key: self.inner.update_status(number, status, note=note, actor=actor, idempotency_key=key),
            idempotency_key,
        )

    async def changes_since(self, cursor: str | None, limit: int = 1000) -> ChangeBatch:
        return await self.guard.read("changes_since", lambda: self.inner.changes_since(cursor, limit))

    # -- online applications (ApplicationIntake), where the backend takes them -----------

    def _upload_timeout(self, documents: Sequence[DocumentUpload]) -> float:
        """The policy's timeout, plus a second per MB sent (a slow link to the source)."""
        return self.guard.policy.timeout + sum(d.size for d in documents) / UPLOAD_BYTES_PER_SECOND

    def _intake(self, operation: str) -> ApplicationIntake:
        if not isinstance(self.inner, ApplicationIntake):
            raise SourceUnavailable(self.source_id, "this licensing source takes no online applications",
                                    operation=operation)
        return self.inner

    async def requirements(self) -> dict[str, list[PermitRequirement]]:
        return await self.guard.cached_read("requirements", (), self._intake("requirements").requirements)

    async def submit_application(
        self, new: NewApplication, documents: Sequence[DocumentUpload], *, idempotency_key: str | None = None
    ) -> ApplicationRecord:
        intake = self._intake("submit_application")
        return await self.guard.write(
            "submit_application",
            lambda key: intake.submit_application(new, _rewound(documents), idempotency_key=key),
            idempotency_key,
            timeout=self._upload_timeout(documents),
        )

    async def add_documents(
        self, number: str, documents: Sequence[DocumentUpload], *, idempotency_key: str | None = None
    ) -> ApplicationRecord:
        intake = self._intake("add_documents")
        return await self.guard.write(
            "add_documents",
            lambda key: intake.add_documents(number, _rewound(documents), idempotency_key=key),
            idempotency_key,
            timeout=self._upload_timeout(documents),
        )

    async def mark_incomplete(
        self, number: str, missing: Sequence[str], *, note: str | None, actor: str, idempotency_key: str | None = None
    ) -> ApplicationRecord:
        intake = self._intake("mark_incomplete")
        return await self.guard.write(
            "mark_incomplete",
            lambda key: intake.mark_incomplete(number, missing, note=note, actor=actor, idempotency_key=key),
            idempotency_key,
        )

    async def documents(self, number: str) -> list[DocumentRecord]:
        intake = self._intake("documents")
        return await self.guard.read("documents", lambda: intake.documents(number))

    def open_document(self, number: str, document_id: str) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        """Not retried (a stream); a failure before the first byte is the caller's to report."""
        return self._intake("open_document").open_document(number, document_id)


UPLOAD_BYTES_PER_SECOND = 1_000_000


def _rewound(documents: Sequence[DocumentUpload]) -> Sequence[DocumentUpload]:
    """Every attempt sends each file from its start."""
    for document in documents:
        document.file.seek(0)
    return documents


class GuardedComplaintSource(_Guarded):
    inner: ComplaintSource

    def __init__(self, inner: ComplaintSource, policy: ResiliencePolicy, *, guard: Guard | None = None) -> None:
        super().__init__(inner, policy, guard=guard)
        self.inner = inner

    async def complaints_by_number(self, numbers: Sequence[str]) -> dict[str, ComplaintRecord]:
        return await self.guard.batch_read("complaints_by_number", list(numbers), self.inner.complaints_by_number)

    async def complaints_by_reporter(self, niks: Sequence[str]) -> dict[str, list[ComplaintRecord]]:
        return await self.guard.batch_read(
            "complaints_by_reporter", list(niks), self.inner.complaints_by_reporter
        )

    async def list_complaints(self, flt: ComplaintFilter, page: PageRequest) -> Page[ComplaintRecord]:
        return await self.guard.cached_read(
            "list_complaints", (flt, page), lambda: self.inner.list_complaints(flt, page)
        )

    async def categories(self) -> list[str]:
        return await self.guard.reference_read("categories", self.inner.categories)

    async def submit(self, complaint: NewComplaint, *, idempotency_key: str | None = None) -> ComplaintRecord:
        return await self.guard.write(
            "submit", lambda key: self.inner.submit(complaint, idempotency_key=key), idempotency_key
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
        return await self.guard.write(
            "update_status",
            lambda key: self.inner.update_status(number, status, note=note, actor=actor, idempotency_key=key),
            idempotency_key,
        )

    async def changes_since(self, cursor: str | None, limit: int = 1000) -> ChangeBatch:
        return await self.guard.read("changes_since", lambda: self.inner.changes_since(cursor, limit))


def guarded(source: Source, policy: ResiliencePolicy) -> Source:
    """`source` behind a guard, keeping its protocol (population, licensing, complaints)."""
    if isinstance(source, _Guarded):
        return source
    if isinstance(source, PopulationSource) and hasattr(source, "citizens_by_nik"):
        return GuardedPopulationSource(source, policy)
    if isinstance(source, LicensingSource) and hasattr(source, "applications_by_number"):
        return GuardedLicensingSource(source, policy)
    if isinstance(source, ComplaintSource) and hasattr(source, "complaints_by_number"):
        return GuardedComplaintSource(source, policy)
    raise TypeError(f"{type(source).__name__} implements no known source protocol")
