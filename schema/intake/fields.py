"""Fields that reach online-application data from existing types: a permit type's
requirements, an application's documents (with download links), the citizen's own
cases on `me`, and the root list of permit types."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry
from strawberry.types import Info

from auth.policy import ReachedAs
from connectors.protocols import ApplicationIntake
from schema.access import allows
from schema.context import Context
from schema.intake.types import Document, PermitRequirementType
from schema.types.common import PermitType

if TYPE_CHECKING:
    from schema.types.application import Application
    from schema.types.complaint import Complaint

T = TypeVar("T")


async def requirements_of(ctx: Context, permit_type: str) -> list[PermitRequirementType]:
    """What the permit type asks for; empty when the source takes no online applications."""
    source = ctx.env.sources.licensing
    if not isinstance(source, ApplicationIntake):
        return []
    found = await ctx.env.requirements.for_type(source, permit_type)  # kept a minute: not traced per use
    return [PermitRequirementType.of(req) for req in found or ()]


async def documents_of(application: Application, ctx: Context) -> list[Document] | None:
    """The application's documents, each with a download link for the caller alone,
    issued under the purpose and case in force (the download writes the ledger)."""
    if not allows(application.row, "documents"):
        return None
    source = ctx.env.sources.licensing
    if not isinstance(source, ApplicationIntake):
        return []
    with ctx.trace.measure(source.source_id, "documents") as m:
        found = await source.documents(application.record.number)
        m.fetched(found)
    links = ctx.env.document_links
    case = ctx.checked_case.number if ctx.checked_case is not None else None
    return [
        Document.of(doc, None if links is None else links.issue(
            subject=ctx.principal.subject, application=doc.application_number, document=doc.id,
            purpose=ctx.purpose, case=case,
        ))
        for doc in found
    ]


async def own_applications(ctx: Context) -> list[Application]:
    from schema.types.application import Application

    return await _own(ctx, ctx.loaders.applications_of, Application.of)


async def own_complaints(ctx: Context) -> list[Complaint]:
    from schema.types.complaint import Complaint

    return await _own(ctx, ctx.loaders.complaints_of, Complaint.of)


async def _own(ctx: Context, loader: Any, shape: Callable[..., T | None]) -> list[T]:
    """The caller's own records through the same loaders, policy and ledger as
    `Citizen.applications` / `Citizen.complaints`; nothing for a caller without a NIK."""
    if not ctx.principal.nik:
        return []
    records = await loader.load(ctx.principal.nik)
    shown = (shape(record, ctx, reached_as=ReachedAs.OF_CITIZEN) for record in records)
    return [item for item in shown if item is not None]


@strawberry.type
class IntakeQuery:
    @strawberry.field(description="The permit types of the licensing system, with their requirements.")
    async def permit_types(self, info: Info[Context, None]) -> list[PermitType]:
        ctx = info.context
        source = ctx.env.sources.licensing
        with ctx.trace.measure(source.source_id, "permit_types"):
            found = await source.permit_types()
        return [PermitType.of(p) for p in sorted(found, key=lambda p: p.code)]
