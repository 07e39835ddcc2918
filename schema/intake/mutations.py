"""`submitApplication`, `completeApplication` (the signed-in citizen) and
`markApplicationIncomplete` (the licensing officer).

The applicant is always the token's NIK: there is no argument naming one. Documents are
checked here (schema.intake.checks) before the source is called, and the source checks
them again; they travel on as the spooled files the multipart parser wrote, read in
chunks. The caller's idempotency key is required and is bound to the caller before it
reaches the source (a hash of NIK and key), so one person's key can never answer
another person's application.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Awaitable, Callable, Sequence

import strawberry
from strawberry.types import Info

from connectors import records as r
from connectors.errors import SourceRejected
from connectors.protocols import ApplicationIntake
from schema.context import Context
from schema.errors import BadUserInput, Forbidden, NotFound
from schema.inputs import checked_nik, checked_number
from schema.intake.checks import Upload, check_documents, size_of, sniff
from schema.intake.types import ApplicationInput, DocumentInput
from schema.mutations import checked_text, require_declared_purpose
from schema.transitions import refused_change
from schema.types.application import Application

MAX_DOCUMENTS = 20
MAX_KEY = 128
MAX_MISSING = 50
#: the licensing source's codes for the refusals told apart here (its own words are never shown)
SOURCE_REFUSALS = {
    "KUNCI_IDEMPOTENSI_BENTROK": ("IDEMPOTENCY_KEY_REUSED",
                                  "this idempotencyKey was used for a different request; use a new key for a new one"),
    "BERKAS_TIDAK_VALID": ("DOCUMENTS_INVALID", "the licensing system refused the documents (its requirements may "
                           "have changed a moment ago): read permitTypes again"),
    "BERKAS_TIDAK_DAPAT_DIUBAH": ("NOT_INCOMPLETE", "this application no longer takes documents"),
}


def _refused(reason: str, message: str, **details: object) -> BadUserInput:
    return BadUserInput(message, details={"reason": reason, **details})


def _citizen_nik(ctx: Context) -> str:
    if not ctx.principal.nik:
        raise Forbidden("only a signed-in citizen (a token with a `nik` claim) applies online")
    return checked_nik(ctx.principal.nik)


def _source_key(nik: str, key: str, operation: str, *scope: str) -> str:
    """The caller's key, bound to the caller, the operation and its `scope` (never sent
    as given)."""
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise BadUserInput(f"`idempotencyKey` must be 1-{MAX_KEY} printable characters")
    digest = hashlib.sha256("\x1f".join((operation, nik, *scope, key)).encode()).hexdigest()
    return f"simpul-{operation}-{digest[:48]}"


def _intake(ctx: Context) -> ApplicationIntake:
    source = ctx.env.sources.licensing
    if not isinstance(source, ApplicationIntake):
        raise _refused("NOT_SUPPORTED", "the licensing system behind this hub takes no online applications")
    return source


def _file_name(name: str | None, requirement: str) -> str:
    base = os.path.basename((name or "").replace("\\", "/"))
    cleaned = "".join(c for c in base if c.isprintable() and c not in '"')[:200]
    return cleaned or requirement[:40]


def _uploads(documents: Sequence[DocumentInput]) -> tuple[list[Upload], list[r.DocumentUpload]]:
    if len(documents) > MAX_DOCUMENTS:
        raise _refused("TOO_MANY_DOCUMENTS", f"at most {MAX_DOCUMENTS} documents in one request")
    checked, outgoing = [], []
    for document in documents:
        upload = document.file
        file = getattr(upload, "file", None)
        if file is None:
            raise _refused("NOT_A_FILE", f"document {document.requirement[:40]!r} has no file")
        name = _file_name(getattr(upload, "filename", None), document.requirement)
        size = size_of(file)
        checked.append(Upload(document.requirement, name, size, sniff(file)))
        outgoing.append(r.DocumentUpload(requirement=document.requirement, filename=name, file=file, size=size))
    return checked, outgoing


async def _requirements(ctx: Context, intake: ApplicationIntake, permit_type: str) -> list[r.PermitRequirement]:
    found = await ctx.env.requirements.for_type(intake, permit_type)
    if found is None:
        raise _refused("UNKNOWN_PERMIT_TYPE", f"unknown permit type {permit_type[:20]!r}",
                       problems=[_problem_unknown_type(permit_type)])
    return found


def _problem_unknown_type(permit_type: str) -> dict[str, object]:
    code = permit_type[:20]
    return {"requirement": None, "reason": "UNKNOWN_PERMIT_TYPE",
            "message": {"id": f"Jenis izin tidak dikenal: {code}", "en": f"Unknown permit type: {code}"}}


def _check(permit_type: str, requirements: Sequence[r.PermitRequirement], uploads: Sequence[Upload],
           *, need_mandatory: bool) -> None:
    problems = check_documents(permit_type, requirements, uploads, need_mandatory=need_mandatory)
    if problems:
        listed = "; ".join(p.en for p in problems)
        raise _refused("DOCUMENTS_INVALID", f"the documents do not meet the requirements: {listed}",
                       problems=[p.as_extension() for p in problems])


def _told(exc: SourceRejected) -> BadUserInput | SourceRejected:
    """A refusal by the source in the hub's words."""
    known = SOURCE_REFUSALS.get(exc.source_code)
    return _refused(*known) if known else exc


async def _forward(
    ctx: Context, operation: str, call: Callable[[], Awaitable[r.ApplicationRecord]]
) -> Application:
    """One write at the licensing source, traced; its known refusals told in the hub's words."""
    try:
        with ctx.trace.measure(ctx.env.sources.licensing.source_id, operation) as m:
            record = await call()
            m.fetched((record,))
    except SourceRejected as exc:
        raise _told(exc) from exc
    return _shown(record, ctx)


def _shown(record: r.ApplicationRecord, ctx: Context) -> Application:
    shown = Application.of(record, ctx)
    if shown is None:
        raise Forbidden("the application was stored but is not yours to see; keep its number")
    return shown


async def _own_application(ctx: Context, number: str, nik: str) -> r.ApplicationRecord:
    """The caller's application; any other number is NOT_FOUND alike, whether it
    exists or not (no answer tells another person's number from a wrong one)."""
    record = await ctx.loaders.application.load(number)
    if record is None or record.applicant_nik != nik:
        raise NotFound("no application of yours has this number")
    return record


@strawberry.type
class IntakeMutation:
    @strawberry.mutation(description="Applies for a permit as the signed-in citizen, with the documents the "
                         "permit type asks for (`PermitType.requirements`), by the GraphQL multipart request "
                         "spec. The same idempotencyKey with the same request answers the same application.")
    async def submit_application(
        self,
        info: Info[Context, None],
        input: ApplicationInput,
        idempotency_key: str,
        documents: list[DocumentInput] | None = None,
    ) -> Application:
        ctx = info.context
        nik = _citizen_nik(ctx)
        key = _source_key(nik, idempotency_key, "submit")
        intake = _intake(ctx)
        if input.kelurahan not in ctx.env.region.kelurahan:
            raise BadUserInput(f"`kelurahan` {input.kelurahan[:20]!r} is not a kelurahan of this region")
        company = checked_text(input.company_name, argument="companyName", maximum=200)
        if input.applicant_kind is r.ApplicantKind.COMPANY and not (company and company.strip()):
            raise BadUserInput("`companyName` is required when applying for a company")
        uploads, outgoing = _uploads(documents or [])
        requirements = await _requirements(ctx, intake, input.permit_type)
        _check(input.permit_type, requirements, uploads, need_mandatory=True)
        citizen = await ctx.loaders.citizen.load(nik)
        if citizen is None:
            raise Forbidden("your NIK is not in the population registry of this region")
        new = r.NewApplication(
            applicant_nik=nik,
            applicant_name=citizen.full_name,
            permit_type=input.permit_type,
            kelurahan_code=input.kelurahan,
            request_kind=input.request_kind,
            applicant_kind=input.applicant_kind,
            company_name=company.strip() if company else None,
            business_address=checked_text(input.business_address, argument="businessAddress", maximum=200),
        )
        return await _forward(ctx, "submit_application",
                              lambda: intake.submit_application(new, outgoing, idempotency_key=key))

    @strawberry.mutation(description="Sends the documents an officer asked for (status FILE_INCOMPLETE); once "
                         "every requested and mandatory document is there, the application is SUBMITTED again.")
    async def complete_application(
        self,
        info: Info[Context, None],
        number: str,
        documents: list[DocumentInput],
        idempotency_key: str,
    ) -> Application:
        ctx = info.context
        nik = _citizen_nik(ctx)
        number = checked_number(number)
        key = _source_key(nik, idempotency_key, "complete", number)
        intake = _intake(ctx)
        if not documents:
            raise _refused("NO_DOCUMENTS", "send at least one document")
        uploads, outgoing = _uploads(documents)
        record = await _own_application(ctx, number, nik)
        if record.status is not r.ApplicationStatus.FILE_INCOMPLETE:
            raise _refused("NOT_INCOMPLETE", "this application is not waiting for documents (status "
                           f"{record.status.value})")
        requirements = await _requirements(ctx, intake, record.permit_type.code)
        _check(record.permit_type.code, requirements, uploads, need_mandatory=False)
        return await _forward(ctx, "add_documents",
                              lambda: intake.add_documents(record.number, outgoing, idempotency_key=key))

    @strawberry.mutation(description="Sends an application back to its applicant (FILE_INCOMPLETE), naming the "
                         "requirements (`PermitRequirement.code`) missing or not acceptable.")
    async def mark_application_incomplete(
        self,
        info: Info[Context, None],
        number: str,
        missing: list[str],
        note: str | None = None,
        idempotency_key: str | None = None,
    ) -> Application:
        ctx = info.context
        number = checked_number(number)
        if not 1 <= len(missing) <= MAX_MISSING:
            raise BadUserInput(f"`missing` names 1-{MAX_MISSING} requirements")
        await require_declared_purpose(ctx, "Application", number)
        intake = _intake(ctx)
        record = await ctx.loaders.application.load(number)
        if record is None or Application.of(record, ctx) is None:
            raise NotFound("no application with this number that you may see")
        requirements = await _requirements(ctx, intake, record.permit_type.code)
        known = {req.code for req in requirements}
        unknown = [code[:40] for code in missing if code not in known]
        if unknown:
            raise _refused("UNKNOWN_REQUIREMENT", f"not requirements of {record.permit_type.code}: {', '.join(unknown)}")
        if idempotency_key is not None and (not idempotency_key or len(idempotency_key) > MAX_KEY):
            raise BadUserInput(f"`idempotencyKey` must be 1-{MAX_KEY} printable characters")
        try:
            with ctx.trace.measure(ctx.env.sources.licensing.source_id, "mark_incomplete") as m:
                updated = await intake.mark_incomplete(
                    number, list(dict.fromkeys(missing)), note=checked_text(note, argument="note", maximum=1000),
                    actor=ctx.principal.subject, idempotency_key=idempotency_key,
                )
                m.fetched((updated,))
        except SourceRejected as exc:  # a workflow step the application is not at
            raise await refused_change(ctx, ctx.env.sources.licensing, Application, number,
                                       r.ApplicationStatus.FILE_INCOMPLETE) from exc
        ctx.note("Application", updated.number, {"status", "requirements"}, action="write",
                 detail=f"status=FILE_INCOMPLETE missing={','.join(dict.fromkeys(missing))}"[:500])
        return _shown(updated, ctx)
