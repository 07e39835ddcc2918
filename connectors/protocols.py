"""What the hub needs from each source: one typed protocol per source id.

Batch look-ups return a mapping from key to record; keys that do not exist are
simply absent (the caller decides what a missing key means). Lists use keyset
pagination with opaque cursors. Every method raises only `connectors.errors`
exceptions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Protocol, runtime_checkable

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
from connectors.records import (
    DocumentRecord,
    DocumentUpload,
    NewApplication,
    PermitRequirement,
)

if TYPE_CHECKING:
    from connectors.http import PoolState


@runtime_checkable
class Source(Protocol):
    source_id: str

    async def check(self) -> None:
        """Raise a ConnectorError if the source cannot answer a trivial request."""

    async def aclose(self) -> None: ...


@runtime_checkable
class PooledSource(Protocol):
    """A source reached over HTTP through a connection pool (the REST backends, and a
    guard around any source: None when what it guards has no pool). The hub reads it to
    export the pool's state; nothing here knows of the hub."""

    def pool_state(self) -> PoolState | None:
        """The pool counted now: cheap, synchronous, never raises."""


@runtime_checkable
class PopulationSource(Source, Protocol):
    async def citizens_by_nik(self, niks: Sequence[str]) -> dict[str, CitizenRecord]: ...

    async def families_by_number(
        self, numbers: Sequence[str]
    ) -> dict[str, list[CitizenRecord]]:
        """Members of each family card, head first then by relationship and birth date."""

    async def list_citizens(self, flt: CitizenFilter, page: PageRequest) -> Page[CitizenRecord]:
        """Ordered by NIK."""

    async def changes_since(self, cursor: str | None, limit: int = 1000) -> ChangeBatch: ...


@runtime_checkable
class LicensingSource(Source, Protocol):
    async def applications_by_number(
        self, numbers: Sequence[str]
    ) -> dict[str, ApplicationRecord]: ...

    async def applications_by_applicant(
        self, niks: Sequence[str]
    ) -> dict[str, list[ApplicationRecord]]:
        """Applications per applicant NIK, newest first."""

    async def list_applications(
        self, flt: ApplicationFilter, page: PageRequest
    ) -> Page[ApplicationRecord]:
        """Newest first (received_at, number descending)."""

    async def permit_types(self) -> list[PermitType]: ...

    async def update_status(
        self,
        number: str,
        status: ApplicationStatus,
        *,
        note: str | None,
        actor: str,
        idempotency_key: str | None = None,
    ) -> ApplicationRecord: ...

    async def changes_since(self, cursor: str | None, limit: int = 1000) -> ChangeBatch: ...


@runtime_checkable
class ApplicationIntake(Protocol):
    """A licensing source that takes applications online, with their documents. A
    write is all or nothing at the source; a repeated idempotency key answers the first
    result."""

    async def requirements(self) -> dict[str, list[PermitRequirement]]:
        """Permit type code -> what it asks the applicant to upload."""

    async def submit_application(
        self, new: NewApplication, documents: Sequence[DocumentUpload], *, idempotency_key: str | None = None
    ) -> ApplicationRecord: ...

    async def add_documents(
        self, number: str, documents: Sequence[DocumentUpload], *, idempotency_key: str | None = None
    ) -> ApplicationRecord:
        """Add or replace documents; the last missing one of an incomplete file sends it
        back to SUBMITTED."""

    async def mark_incomplete(
        self, number: str, missing: Sequence[str], *, note: str | None, actor: str, idempotency_key: str | None = None
    ) -> ApplicationRecord: ...

    async def documents(self, number: str) -> list[DocumentRecord]: ...

    def open_document(self, number: str, document_id: str) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        """The content, as chunks; `RecordNotFound` unless the document is the application's."""


@runtime_checkable
class ComplaintSource(Source, Protocol):
    async def complaints_by_number(self, numbers: Sequence[str]) -> dict[str, ComplaintRecord]: ...

    async def complaints_by_reporter(
        self, niks: Sequence[str]
    ) -> dict[str, list[ComplaintRecord]]:
        """Complaints per reporter NIK, newest first."""

    async def list_complaints(
        self, flt: ComplaintFilter, page: PageRequest
    ) -> Page[ComplaintRecord]:
        """Newest first (submitted_at, number descending)."""

    async def categories(self) -> list[str]: ...

    async def submit(
        self, complaint: NewComplaint, *, idempotency_key: str | None = None
    ) -> ComplaintRecord: ...

    async def update_status(
        self,
        number: str,
        status: ComplaintStatus,
        *,
        note: str | None,
        actor: str,
        idempotency_key: str | None = None,
    ) -> ComplaintRecord: ...

    async def changes_since(self, cursor: str | None, limit: int = 1000) -> ChangeBatch: ...
