"""Purpose-bound access and the access ledger, around each operation.

Before execution: if the document selects personal fields, or filters a listing by
them (`schema.search`), the request must carry a purpose the caller's role may use, and
where the purpose is bound to a case kind, the number of a case of that kind that exists
in its source (`schema.cases`: under it, the operation reads only the case's records);
otherwise the operation is not executed and answers `PURPOSE_REQUIRED` (or the source's
error, such as `SOURCE_UNAVAILABLE`, when the case could not be looked up). A shared
live run's leader looks nothing up: it runs with what its members' checks found
(`schema.live.Established`).

After execution: one ledger entry per personal record returned (or changed), committed
before the response leaves (started early by the root field when that is safe: see
`schema.ledger_writes`). If the ledger cannot be written, the response carries no data
at all (fail closed) and says so with `LEDGER_UNAVAILABLE`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    OperationType,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType as StrawberryOperationType

from connectors.errors import ConnectorError
from schema.access import personal_selection
from schema.cases import enter_case
from schema.context import Context
from schema.errors import PurposeRequired, error_extensions
from schema.ledger_writes import LEDGER_REFUSAL
from schema.search import searched_personal

log = logging.getLogger("simpul.ledger")

StreamExecutionResult = Any  # strawberry's: an ExecutionResult, or an incremental frame


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
        ctx.ledger_writes.describe(query, operation)  # a write may be ledgered without personal fields
        personal = personal_selection(ctx.selected)
        for type_name, fields in searched_personal(document, operation, execution.variables).items():
            personal[type_name] = personal.get(type_name, frozenset()) | fields
        if personal:
            decision = ctx.env.access.purposes.check(ctx.principal, ctx.purpose, ctx.case)
            if not decision.allowed:
                self._refuse(_refusal(
                    f"This operation returns personal data: {decision.reason}",
                    "PURPOSE_REQUIRED",
                    personalTypes=sorted(personal),
                ))
                yield
                return
            if ctx.env.ledger is None:
                self._refuse(_refusal(
                    "Personal data is not available: this hub has no access ledger",
                    "LEDGER_UNAVAILABLE",
                ))
                yield
                return
            try:
                if ctx.live_leader is None:
                    await enter_case(ctx, decision)
                else:  # a shared run: the case and family its members' checks found (schema.live)
                    ctx.purpose = decision.purpose
            except PurposeRequired as exc:
                self._refuse(_refusal(f"This operation returns personal data: {exc.message}",
                                      "PURPOSE_REQUIRED", personalTypes=sorted(personal)))
                yield
                return
            except ConnectorError as exc:  # fail closed: no personal data without a checked case
                extensions = error_extensions(exc) or {"code": exc.code}
                self._refuse(ExecutionResult(data=None, errors=[GraphQLError(
                    f"The case in X-Access-Case could not be checked, so no personal data is sent: {exc}",
                    extensions=extensions)]))
                yield
                return
            ctx.ledger_writes.early = len(personal) == 1 and _one_root_query_field(document, operation)
            if ctx.principal.nik and ctx.live_leader is None:
                own = await ctx.loaders.citizen.load(ctx.principal.nik)
                ctx.presenter.family_number = own.family_number if own is not None else None
        yield
        if not ctx.accessed:
            return
        try:
            await ctx.finish_ledger()
        except Exception:
            log.exception("request %s: the access ledger could not be written; no data sent", ctx.request_id)
            # the result object is already the one being returned: empty it in place
            refusal = _refusal(LEDGER_REFUSAL, "LEDGER_UNAVAILABLE")
            result = self.execution_context.result
            assert isinstance(result, ExecutionResult)
            result.data = None
            result.errors = refusal.errors


    def _refuse(self, result: ExecutionResult) -> None:
        """Answer `result` instead of executing. A subscription is not executed here but
        started: its refusal is raised, so that no event is ever produced."""
        if self.execution_context.operation_type is StrawberryOperationType.SUBSCRIPTION:
            assert result.errors
            raise result.errors[0]
        self.execution_context.result = result

    async def on_stream_result(self, result: StreamExecutionResult) -> AsyncIterator[None]:  # type: ignore[override]
        """Each event of a subscription: its ledger entries are written before it is sent
        (if they cannot be, the event goes without data, and says so); once sent, the
        context forgets its records for the next event. A group leader's event gets one
        entry per member it goes to, in one batch, and none of the leader's own."""
        ctx = self.execution_context.context
        if self.execution_context.operation_type is not StrawberryOperationType.SUBSCRIPTION \
                or not isinstance(ctx, Context):
            yield
            return
        if ctx.accessed:
            try:
                leader = ctx.live_leader
                if leader is not None:  # a shared run (schema.live): an entry per member it goes to
                    await ctx.finish_shared_ledger(leader.readers(), ctx.request_id.removeprefix(leader.request_id))
                else:
                    ctx.ledger_writes.waited_by_caller = False
                    await ctx.finish_ledger()
            except Exception:
                log.exception("request %s: the access ledger could not be written; event sent without data",
                              ctx.request_id)
                if hasattr(result, "errors"):  # strawberry's ExecutionResult
                    result.data = None
                    result.errors = _refusal(LEDGER_REFUSAL, "LEDGER_UNAVAILABLE").errors
        yield
        ctx.next_event()


def _one_root_query_field(document: DocumentNode | None, operation_name: str | None) -> bool:
    """Whether the operation is a query whose selection is one plain root field (no
    fragments, no second field that could return the same records)."""
    operation = get_operation_ast(document, operation_name) if document is not None else None
    if operation is None or operation.operation is not OperationType.QUERY:
        return False
    selections = operation.selection_set.selections
    return len(selections) == 1 and isinstance(selections[0], FieldNode)
