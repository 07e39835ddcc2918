"""`GET /documents/{token}`: the content of one document of an application, through a
link `Application.documents` issued (auth.document_links).

The download is personal-data access like any query, and is checked again now:

    link      signed by this hub, not altered, not expired            else 403 / 410
    caller    the same subject the link was issued to, with its own
              bearer token (a leaked link is worth nothing alone)     else 403
    policy    the caller may still see this application's documents
              (row rules and the policy's `documents` field)          else 403
    ledger    one entry (purpose and case of the link, action read,
              detail "download <id>") is committed BEFORE the first
              byte is sent; if it cannot be written, nothing is sent  else 503
    content   streamed from the source in chunks, never held whole

Every refusal about the link or the caller reads the same ("this link is not valid
for you"), so it tells nothing about other people's documents.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from auth.document_links import LinkExpired, LinkInvalid
from auth.ledger import LedgerDraft
from auth.principal import Principal
from connectors.errors import ConnectorError, RecordNotFound
from connectors.protocols import ApplicationIntake
from hub.json_errors import json_error
from hub.request_context import principal_of, request_id_of
from schema.access import allows
from schema.context import Environment

log = logging.getLogger("simpul.documents")

OPERATION = "downloadDocument"
_NOT_FOR_YOU = "This download link is not valid for you"


def _error(request: Request, status: int, code: str, message: str) -> Response:
    return json_error(status, code, message, request_id=request_id_of(request.scope),
                      headers={"cache-control": "no-store"})


def _may_see_documents(env: Environment, principal: Principal, nik: str | None, kelurahan: str) -> bool:
    presenter = env.access.presenter(principal)
    shaped = presenter.shape(
        "Application", {"applicant_nik": nik, "kelurahan_code": kelurahan}, {"number": None}
    )
    return shaped is not None and allows(shaped.row, "documents") and shaped.row.access("documents").visible


async def download_document(request: Request) -> Response:
    env: Environment = request.state.env
    principal = principal_of(request.scope)
    links = env.document_links
    if links is None:
        return _error(request, 404, "NOT_FOUND", "Document downloads are not configured")
    try:
        grant = links.verify(request.path_params["token"])
    except LinkExpired:
        return _error(request, 410, "LINK_EXPIRED", "This download link has expired; ask for the documents again")
    except LinkInvalid:
        return _error(request, 403, "FORBIDDEN", _NOT_FOR_YOU)
    if principal.is_anonymous or principal.subject != grant.subject:
        return _error(request, 403, "FORBIDDEN", _NOT_FOR_YOU)
    if grant.case is not None and grant.case != grant.application:  # issued under another case's purpose
        return _error(request, 403, "FORBIDDEN", _NOT_FOR_YOU)
    if not env.access.purposes.check(principal, grant.purpose, grant.case).allowed:  # the purpose, as of now
        return _error(request, 403, "FORBIDDEN", _NOT_FOR_YOU)
    source = env.sources.licensing
    if not isinstance(source, ApplicationIntake):
        return _error(request, 404, "NOT_FOUND", "Document downloads are not configured")
    try:
        found = await source.applications_by_number([grant.application])
        record = found.get(grant.application)
        if record is None or not _may_see_documents(env, principal, record.applicant_nik, record.kelurahan_code):
            return _error(request, 403, "FORBIDDEN", _NOT_FOR_YOU)
        document = next((d for d in await source.documents(record.number) if d.id == grant.document), None)
        if document is None:
            return _error(request, 404, "NOT_FOUND", "The document is no longer part of the application")
        if record.applicant_nik is not None:  # the access, on the ledger before any byte leaves
            await _ledger(env, request, principal, record.applicant_nik, grant.purpose, grant.case, document.id)
        stack = AsyncExitStack()
        chunks = await stack.enter_async_context(source.open_document(record.number, document.id))
    except RecordNotFound:
        return _error(request, 404, "NOT_FOUND", "The document is no longer part of the application")
    except ConnectorError as exc:
        return _error(request, 503, "SOURCE_UNAVAILABLE", f"{exc.source}: the licensing system cannot answer now")
    except _LedgerFailed:
        return _error(request, 503, "LEDGER_UNAVAILABLE", "The access ledger cannot be written; nothing was sent")

    async def body() -> AsyncIterator[bytes]:
        async with stack:
            async for chunk in chunks:
                yield chunk

    safe_name = "".join(c for c in document.filename if c.isalnum() or c in "._- ")[:100] or "dokumen"
    return StreamingResponse(
        body(),
        media_type=document.media_type,
        headers={
            "content-disposition": f'attachment; filename="{safe_name}"',
            "content-length": str(document.size),
            "cache-control": "no-store",
            "x-content-type-options": "nosniff",
            "x-document-sha256": document.sha256,
        },
    )


class _LedgerFailed(Exception):
    pass


async def _ledger(
    env: Environment, request: Request, principal: Principal, nik: str, purpose: str | None, case: str | None,
    document_id: str,
) -> None:
    if env.ledger is None:
        raise _LedgerFailed
    draft = LedgerDraft(
        request_id=request_id_of(request.scope), subject=principal.subject, roles=sorted(principal.roles),
        purpose=purpose, document_hash=hashlib.sha256(OPERATION.encode()).hexdigest(), record_type="Application",
        record_key=nik, fields=("documents",), action="read", detail=f"download {document_id}",
        client_id=principal.client_id, case=case, operation_name=OPERATION, department=principal.department,
    )
    try:
        await env.ledger([draft])
    except Exception as exc:
        log.exception("request %s: the access ledger could not be written; no document sent",
                      request_id_of(request.scope))
        raise _LedgerFailed from exc
