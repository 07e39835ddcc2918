"""The GraphQL endpoint: strawberry's ASGI view with the hub's context, error codes
and fast JSON, GraphQL over HTTP as the specification says (hub.graphql_http), and a
dispatcher that hands each caller the schema of its roles."""

from __future__ import annotations

import dataclasses
import inspect
import logging
from collections.abc import Callable
from typing import Any

import orjson
from cachetools import LRUCache
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import (
    CannotGetOperationTypeError,
    InvalidOperationTypeError,
)
from strawberry.subscriptions import MULTIPART_SUBSCRIPTION_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from auth.principal import Principal
from hub.body_limit import BodyTooLarge
from hub.graphiql import graphiql_page
from hub.graphql_http import (
    GRAPHQL_RESPONSE,
    JSON,
    HttpError,
    HubRequestData,
    error_code,
    is_request_error,
    read_get,
    read_post,
    request_error_status,
    response_media_type,
)
from hub.json_errors import internal_message, json_error
from hub.uploads import current_upload, is_multipart, read_multipart
from hub.metrics import HubMetrics
from hub.persisted.documents import DocumentRefused, PersistedDocuments, ran
from hub.request_context import principal_of, request_id_of
from schema.build import RoleSchema
from schema.context import Context, Environment
from schema.errors import format_error
from schema.ledger_writes import LEDGER_REFUSAL

log = logging.getLogger("simpul.http")

_MEDIA_KEY = "simpul.graphql.media_type"
_STATUS_KEY = "simpul.graphql.status"
_CONTEXT_KEY = "simpul.graphql.context"
_REFUSED_KEY = "simpul.graphql.refused"
_RETRY_KEY = "simpul.graphql.retry_after"
_FORM_KEY = "simpul.graphql.upload_form"


class HubGraphQL(GraphQL):
    def __init__(
        self,
        schema: RoleSchema,
        *,
        env: Environment,
        documents: PersistedDocuments,
        metrics: HubMetrics | None = None,
        graphiql: bool = True,
    ) -> None:
        # over HTTP, subscriptions stream as multipart (strawberry's transport); the
        # WebSocket side of /graphql is hub.subscription_socket's
        super().__init__(schema, graphql_ide="graphiql" if graphiql else None,
                         subscription_protocols=(MULTIPART_SUBSCRIPTION_PROTOCOL,))
        self.env = env
        self.documents = documents
        self.metrics = metrics

    async def render_graphql_ide(self, request: Request) -> Response:  # type: ignore[override]
        return graphiql_page()  # the hub's own copy of GraphiQL (hub.graphiql), not a CDN's

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            try:
                response = await self.run(request)
            except HttpError as exc:
                response = self._refusal(scope, exc)
            except HTTPException as exc:  # strawberry's own refusals
                response = self._refusal(scope, HttpError.of_status(exc.status_code, exc.reason))
            except BodyTooLarge:
                raise
            except Exception:  # answered in the media type negotiated, like every refusal
                request_id = request_id_of(scope)
                log.exception("unexpected error in request %s", request_id)
                response = self._refusal(scope, HttpError(500, "INTERNAL", internal_message(request_id)))
            await response(scope, receive, send)
        finally:  # the request is over (answered, or failed)
            form = scope.pop(_FORM_KEY, None)
            if form is not None:  # the spooled files of an upload
                await form.close()
            context = scope.pop(_CONTEXT_KEY, None)  # the scope must not keep it alive either
            if isinstance(context, Context):
                context.release()  # see Context.release

    def _refusal(self, scope: Scope, error: HttpError) -> Response:
        return json_error(
            error.status,
            error.code,
            error.message,
            request_id=request_id_of(scope),
            headers=error.headers,
            media_type=scope.get(_MEDIA_KEY) or JSON,
        )

    async def run(  # type: ignore[override]
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Response | WebSocket:
        if isinstance(request, WebSocket):
            return await super().run(request, context, root_value)
        accept = request.headers.get("accept")
        media = response_media_type(accept)
        if media is None and self._get_stream_transport_from_headers(request.headers) is not None:
            media = JSON  # a subscription over HTTP multipart; refusals before it starts are JSON
        if media is None:
            if request.method == "GET" and "query" not in request.query_params and "text/html" in (accept or ""):
                return await super().run(request, context, root_value)  # the IDE
            raise HttpError(
                406, "NOT_ACCEPTABLE", f"Accept {GRAPHQL_RESPONSE} or {JSON}; got {(accept or '')[:80]!r}"
            )
        request.scope[_MEDIA_KEY] = media
        token = None
        if request.method == "POST" and is_multipart(request.headers.get("content-type")):
            upload, request.scope[_FORM_KEY] = await read_multipart(request)
            token = current_upload.set(upload)
        try:
            response = await super().run(request, context, root_value)
        finally:
            if token is not None:
                current_upload.reset(token)
        response = await self._once_ledgered(request, response)
        if isinstance(response, Response) and response.media_type == JSON:
            response.headers["content-type"] = media if media == JSON else f"{media}; charset=utf-8"
            status = request.scope.get(_STATUS_KEY)
            if status is not None:
                response.status_code = status
            retry_after = request.scope.get(_RETRY_KEY)
            if retry_after is not None:
                response.headers["retry-after"] = str(retry_after)
        return response

    async def _once_ledgered(self, request: Request, response: Response) -> Response:
        """The response, once every ledger entry of the request is committed (the commit
        ran while the response was completed and encoded); if the ledger could not be
        written, a refusal without data instead (fail closed)."""
        context = request.scope.get(_CONTEXT_KEY)
        if not isinstance(context, Context):
            return response
        try:
            await context.ledger_writes.finish()
        except Exception:
            log.exception("request %s: the access ledger could not be written; no data sent", context.request_id)
            request.scope[_REFUSED_KEY] = True  # the operation was already counted
            refusal = ExecutionResult(
                data=None, errors=[GraphQLError(LEDGER_REFUSAL, extensions={"code": "LEDGER_UNAVAILABLE"})]
            )
            return Response(self.encode_json(await self.process_result(request, refusal)), media_type=JSON)
        return response

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:  # type: ignore[override]
        if request.method == "GET":
            data = read_get(request.query_params)
        else:
            upload = current_upload.get()  # a multipart request, read by `run` (hub.uploads)
            data = upload if upload is not None else read_post(request.content_type, await request.get_body())
        transport = self._get_stream_transport_from_headers(request.headers)
        if transport is not None:  # `Accept: multipart/mixed;subscriptionSpec="1.0"` (strawberry's transport)
            data = dataclasses.replace(data, protocol=transport.protocol)
        return data

    async def execute_operation(  # type: ignore[override]  # noqa: PLR0917
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData,
        context: Context,
        root_value: Any,
        sub_response: Response,
    ) -> Any:
        """A subscription over HTTP multipart streams (strawberry's transport), after its
        document is resolved and checked as any other (pushed operations, persisted-only
        roles); everything else runs through `execute_single`."""
        if isinstance(request_data, GraphQLRequestData) and request_data.protocol != "http":
            try:
                resolved = await self.documents.resolve(
                    query=request_data.query,
                    document_id=request_data.document_id if isinstance(request_data, HubRequestData) else None,
                    extensions=request_data.extensions, principal=context.principal,
                    client_header=request.headers.get("x-client-name"), method=request_adapter.method)
            except DocumentRefused as exc:
                return ExecutionResult(data=None, errors=[GraphQLError(exc.message, extensions={"code": exc.code})])
            request_data = dataclasses.replace(request_data, query=resolved.query)
            stream = await super().execute_operation(request, request_adapter, request_data, context, root_value,
                                                     sub_response)
            return self.documents.kept_once_run(stream, resolved) if inspect.isasyncgen(stream) else stream
        return await super().execute_operation(request, request_adapter, request_data, context, root_value,
                                               sub_response)

    async def execute_single(  # type: ignore[override]  # noqa: PLR0917
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        allowed = OperationType.from_http(request_adapter.method)
        try:
            resolved = await self.documents.resolve(
                query=request_data.query,
                document_id=request_data.document_id if isinstance(request_data, HubRequestData) else None,
                extensions=request_data.extensions,
                principal=context.principal,
                client_header=request.headers.get("x-client-name"),
                method=request_adapter.method,
            )
        except DocumentRefused as exc:  # a request error, answered as validation errors are
            return ExecutionResult(data=None, errors=[GraphQLError(exc.message, extensions={"code": exc.code})])
        try:
            result = await self.schema.execute(
                resolved.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
            if resolved.register is not None and resolved.query is not None and ran(result):
                # it parsed and validated for this caller (it ran): keep it for hash-only requests
                await self.documents.remember(resolved.register, resolved.query)
            return result
        except InvalidOperationTypeError as exc:
            raise HttpError(
                405,
                "METHOD_NOT_ALLOWED",
                f"{exc.operation_type.value.capitalize()} operations are only allowed over POST",
                headers={"Allow": "POST"},
            ) from exc
        except CannotGetOperationTypeError as exc:
            raise HttpError(400, "BAD_REQUEST", exc.as_http_error_reason()) from exc
        except MissingQueryError as exc:
            raise HttpError(400, "BAD_REQUEST", "No GraphQL query found: give `query` as a string") from exc

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        headers = request.headers
        context = Context.create(
            self.env,
            principal_of(request.scope),
            request_id=request_id_of(request.scope),
            purpose=headers.get("x-access-purpose"),
            case=headers.get("x-access-case"),
            address=request.client.host if request.client else None,
        )
        if not isinstance(request, WebSocket):  # `run` waits for the ledger before it answers
            context.ledger_writes.waited_by_caller = True  # (see _once_ledgered)
        request.scope[_CONTEXT_KEY] = context
        return context

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        request_id = request_id_of(request.scope)
        errors = []
        for error in result.errors or ():
            formatted = format_error(error, request_id=request_id)
            formatted.setdefault("extensions", {})["code"] = error_code(error, formatted)
            errors.append(formatted)
        response: GraphQLHTTPResponse = {}
        if request.scope.get(_MEDIA_KEY) == GRAPHQL_RESPONSE and is_request_error(result.data, errors):
            request.scope[_STATUS_KEY] = request_error_status(errors)
        else:
            response["data"] = result.data
        waits = [e["extensions"].get("retryAfter", 1) for e in errors if e["extensions"]["code"] == "RATE_LIMITED"]
        if waits:  # a public operation past its limit (schema.quota): answered like the limiter
            request.scope[_STATUS_KEY] = 429
            request.scope[_RETRY_KEY] = max(waits)
        if errors:
            response["errors"] = errors
        extensions = dict(result.extensions or {})
        context = request.scope.get(_CONTEXT_KEY)
        stale = context.trace.stale() if isinstance(context, Context) else []
        if stale:
            extensions["stale"] = stale
        if extensions:
            response["extensions"] = extensions
        if self.metrics is not None and isinstance(context, Context) and not request.scope.get(_REFUSED_KEY):
            self.metrics.observe_operation(
                sources=context.trace.as_list(),
                error_codes=[e["extensions"]["code"] for e in errors],
                ledger_actions=[] if response.get("data") is None else [a.action for a in context.accessed.values()],
            )
        return response

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)


class RoleDispatcher:
    """Routes a request to the GraphQL view built for its principal's roles.

    Views are built lazily per role set as the policy sees it (`role_set`: unknown
    roles dropped, `extends` expanded) and the `kept` most recently used are kept."""

    def __init__(
        self,
        build_view: Callable[[frozenset[str]], HubGraphQL],
        *,
        role_set: Callable[[frozenset[str]], frozenset[str]],
        kept: int,
    ) -> None:
        self._build_view = build_view
        self._role_set = role_set
        self._views: LRUCache[frozenset[str], HubGraphQL] = LRUCache(kept)

    def view_for(self, principal: Principal) -> HubGraphQL:
        key = self._role_set(principal.roles)
        view = self._views.get(key)
        if view is None:
            view = self._views[key] = self._build_view(key)
        return view

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.view_for(principal_of(scope))(scope, receive, send)


__all__ = ["HubGraphQL", "RoleDispatcher"]
