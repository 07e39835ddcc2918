"""Purpose-bound access and the access ledger, around each operation.

Before execution: if the document selects personal fields, the request must carry a
purpose the caller's role may use (and a case number where the purpose needs one);
otherwise the operation is not executed and answers `PURPOSE_REQUIRED`.

After execution: one ledger entry per personal record returned (or changed), written
in one batch before the response leaves. If the ledger cannot be written, the response
carries no data at all (fail closed) and says so with `LEDGER_UNAVAILABLE`.
"""

from __future__ import annotations

import hashlib
import logging
from functools import lru_cache
from collections.abc import Iterator

from graphql import ExecutionResult, GraphQLError
from strawberry.extensions import SchemaExtension

from auth.ledger import LedgerDraft
from schema.access import personal_selection
from schema.context import Context

log = logging.getLogger("simpul.ledger")


def _refusal(message: str, code: str, **extra: object) -> ExecutionResult:
    return ExecutionResult(data=None, errors=[GraphQLError(message, extensions={"code": code, **extra})])


class PersonalDataExtension(SchemaExtension):
    async def on_execute(self) -> Iterator[None]:  # type: ignore[override]
        execution = self.execution_context
        ctx: Context = execution.context
        document = execution.graphql_document
        query = execution.query or ""
        operation = execution.operation_name
        index = execution.schema.selection_index  # type: ignore[attr-defined]
        ctx.selected = index.selected(document, f"{operation}\x00{query}") if document else {}
        personal = personal_selection(ctx.selected)
        if personal:
            decision = ctx.env.access.purposes.check(ctx.principal, ctx.purpose, ctx.case)
            if not decision.allowed:
                execution.result = _refusal(
                    f"This operation returns personal data: {decision.reason}",
                    "PURPOSE_REQUIRED",
                    personalTypes=sorted(personal),
                )
                yield
                return
            ctx.purpose, ctx.case = decision.purpose, decision.case
            if ctx.env.ledger is None:
                execution.result = _refusal(
                    "Personal data is not available: this hub has no access ledger",
                    "LEDGER_UNAVAILABLE",
                )
                yield
                return
            if ctx.principal.nik:
                own = await ctx.loaders.citizen.load(ctx.principal.nik)
                ctx.presenter.family_number = own.family_number if own is not None else None
        yield
        if ctx.accessed:
            await self._write_ledger(ctx, query, operation)

    async def _write_ledger(self, ctx: Context, query: str, operation: str | None) -> None:
        document_hash = hashlib.sha256(query.encode()).hexdigest()
        principal = ctx.principal
        drafts = [
            LedgerDraft(
                request_id=ctx.request_id,
                subject=principal.subject,
                roles=_in_order(principal.roles),
                purpose=ctx.purpose,
                document_hash=document_hash,
                record_type=record_type,
                record_key=key,
                fields=_in_order(access.fields),
                masked_fields=_in_order(access.masked),
                action=access.action,  # type: ignore[arg-type]
                detail=access.detail,
                client_id=principal.client_id,
                case=ctx.case,
                operation_name=operation,
                department=principal.department,
            )
            for (record_type, key), access in ctx.accessed.items()
        ]
        try:
            assert ctx.env.ledger is not None
            await ctx.env.ledger(drafts)
        except Exception:
            log.exception("request %s: the access ledger could not be written; no data sent", ctx.request_id)
            # the result object is already the one being returned: empty it in place
            refusal = _refusal(
                "The access ledger could not be written, so no data is sent; try again later",
                "LEDGER_UNAVAILABLE",
            )
            result = self.execution_context.result
            assert isinstance(result, ExecutionResult)
            result.data = None
            result.errors = refusal.errors


@lru_cache(maxsize=1024)
def _in_order(values: frozenset[str]) -> tuple[str, ...]:
    """Sorted, as the ledger stores collections; one tuple per distinct set, so drafts
    of a request share them and the ledger's check passes them through unchanged."""
    return tuple(sorted(values))
