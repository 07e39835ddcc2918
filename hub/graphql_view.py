"""The GraphQL endpoint: strawberry's ASGI view with the hub's context, error codes
and fast JSON, and a dispatcher that hands each caller the schema of its roles."""

from __future__ import annotations

from collections.abc import Callable

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from auth.principal import Principal
from hub.request_context import principal_of, request_id_of
from schema.build import RoleSchema
from schema.context import Context, Environment
from schema.errors import format_error


class HubGraphQL(GraphQL):
    def __init__(self, schema: RoleSchema, *, env: Environment, graphiql: bool = True) -> None:
        super().__init__(schema, graphql_ide="graphiql" if graphiql else None)
        self.env = env

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        headers = request.headers
        return Context.create(
            self.env,
            principal_of(request.scope),
            request_id=request_id_of(request.scope),
            purpose=headers.get("x-access-purpose"),
            case=headers.get("x-access-case"),
            request=request,
            response=response,
        )

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        response: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            request_id = request_id_of(request.scope)
            response["errors"] = [format_error(e, request_id=request_id) for e in result.errors]
        if result.extensions:
            response["extensions"] = result.extensions
        return response

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)


class RoleDispatcher:
    """Routes a request to the GraphQL view built for its principal's roles.

    Views are built lazily per distinct role set and kept for the process's life
    (the set of role combinations is small and fixed by the issuers)."""

    def __init__(self, build_view: Callable[[frozenset[str]], HubGraphQL]) -> None:
        self._build_view = build_view
        self._views: dict[frozenset[str], HubGraphQL] = {}

    def view_for(self, principal: Principal) -> HubGraphQL:
        view = self._views.get(principal.roles)
        if view is None:
            view = self._views[principal.roles] = self._build_view(principal.roles)
        return view

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.view_for(principal_of(scope))(scope, receive, send)


__all__ = ["HubGraphQL", "RoleDispatcher"]
