"""Running a GraphQL operation in-process as the anonymous public, through the same
role schema, policy and error formatting as `/graphql`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from auth.principal import ANONYMOUS
from hub.graphql_view import RoleDispatcher
from schema.context import Context, Environment
from schema.errors import format_error

Execute = Callable[[str, dict[str, Any] | None, str], Awaitable[dict[str, Any]]]


def anonymous_executor(graphql: RoleDispatcher, env: Environment) -> Execute:
    """`await execute(query, variables, request_id)` -> `{"data": ..., "errors": [...]}`."""

    async def execute(query: str, variables: dict[str, Any] | None, request_id: str) -> dict[str, Any]:
        schema = graphql.view_for(ANONYMOUS).schema
        ctx = Context.create(env, ANONYMOUS, request_id=request_id)
        result = await schema.execute(query, variable_values=variables, context_value=ctx)
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [format_error(e, request_id=request_id) for e in result.errors]
        return body

    return execute


def has_root_field(graphql: RoleDispatcher, name: str, *, mutation: bool = False) -> bool:
    """Whether the public schema offers a root field (fields land as issues progress)."""
    schema = graphql.view_for(ANONYMOUS).schema._schema
    root = schema.mutation_type if mutation else schema.query_type
    return root is not None and name in root.fields


def root_field_arguments(graphql: RoleDispatcher, name: str) -> dict[str, Any]:
    """The graphql-core arguments of a public root query field ({} when absent)."""
    field = graphql.view_for(ANONYMOUS).schema._schema.query_type.fields.get(name)
    return dict(field.args) if field is not None else {}
