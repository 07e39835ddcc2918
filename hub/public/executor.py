"""Running a GraphQL operation in-process as the anonymous public, through the same
role schema, policy and error formatting as `/graphql`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from auth.principal import ANONYMOUS
from hub.graphql_view import HubGraphQL
from schema.build import RoleSchema
from schema.context import Context, Environment
from schema.errors import format_error

Execute = Callable[[str, dict[str, Any] | None, str, str | None], Awaitable[dict[str, Any]]]
BuildView = Callable[[frozenset[str]], HubGraphQL]


class PublicSchema:
    """The anonymous role's schema, built on first use by the hub's view builder."""

    def __init__(self, build_view: BuildView) -> None:
        self._build_view = build_view
        self._schema: RoleSchema | None = None

    @property
    def schema(self) -> RoleSchema:
        if self._schema is None:
            self._schema = self._build_view(ANONYMOUS.roles).schema  # type: ignore[assignment]
        return self._schema  # type: ignore[return-value]

    def has_root_field(self, name: str) -> bool:
        """Whether the public may call this root query field (fields land as issues progress)."""
        query = self.schema._schema.query_type
        return query is not None and name in query.fields

    def root_field_arguments(self, name: str) -> dict[str, Any]:
        """The graphql-core arguments of a public root query field ({} when absent)."""
        query = self.schema._schema.query_type
        field = query.fields.get(name) if query is not None else None
        return dict(field.args) if field is not None else {}


def anonymous_executor(public: PublicSchema, env: Environment) -> Execute:
    """`await execute(query, variables, request_id, address)` -> `{"data": ..., "errors": [...]}`;
    `address` is the client's, for the limits of public operations (None: the page's own)."""

    async def execute(query: str, variables: dict[str, Any] | None, request_id: str,
                      address: str | None) -> dict[str, Any]:
        ctx = Context.create(env, ANONYMOUS, request_id=request_id, address=address)
        result = await public.schema.execute(query, variable_values=variables, context_value=ctx)
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [format_error(e, request_id=request_id) for e in result.errors]
        return body

    return execute
