"""Running a GraphQL operation in-process as the signed-in resident: the citizen role's
schema, the `self-service` purpose, the same resolvers, policy, masks and access ledger
as `/graphql` (a citizen page is one more client of the schema, with no rules of its own)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from auth.principal import Principal
from hub.public.executor import BuildView
from schema.context import Context, Environment
from schema.errors import format_error

CITIZEN_ROLE = "citizen"
PURPOSE = "self-service"

CitizenExecute = Callable[[Principal, str, dict[str, Any] | None, str, str | None], Awaitable[dict[str, Any]]]


def citizen_principal(subject: str, nik: str) -> Principal:
    """The resident the identity provider vouched for (`subject` is its `sub`)."""
    return Principal(subject=f"warga:{subject}"[:200], roles=frozenset({CITIZEN_ROLE}), nik=nik)


def citizen_executor(build_view: BuildView, env: Environment) -> CitizenExecute:
    """`await execute(principal, query, variables, request_id, address)` ->
    `{"data": ..., "errors": [...]}` (errors formatted as `/graphql` formats them)."""

    async def execute(principal: Principal, query: str, variables: dict[str, Any] | None, request_id: str,
                      address: str | None) -> dict[str, Any]:
        schema = build_view(principal.roles).schema
        ctx = Context.create(env, principal, request_id=request_id, purpose=PURPOSE, address=address)
        result = await schema.execute(query, variable_values=variables, context_value=ctx)
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [format_error(e, request_id=request_id) for e in result.errors]
        return body

    return execute
