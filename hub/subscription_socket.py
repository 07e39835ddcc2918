"""GraphQL subscriptions over WebSocket at `/graphql` (graphql-transport-ws, strawberry's
protocol handling), authenticated in `connection_init`.

    handshake ─► accept (graphql-transport-ws only; 4406 otherwise)
    connection_init {Authorization: "Bearer <JWT>", purpose?, case?}
        ─► token validated as on HTTP  (refused: 4403 Forbidden)
        ─► sockets of this principal < limit  (else 4429)
        ─► the schema of the principal's roles; connection_ack
    subscribe ─► before the ack: 4401; a repeated id: 4409; more operations at once
                 than the limit: 4429; bad JSON or message: 4400
              ─► counted against the caller's rate limits as one /graphql request
                 (past them: an `error` message RATE_LIMITED with retryAfter)
              ─► a `query`, or a `documentId` / `extensions.persistedQuery` resolved
                 as over HTTP (hub.persisted.documents; the client named by the token,
                 else `X-Client-Name` in connection_init or the handshake); a refusal
                 is an `error` message with its code
              ─► each operation gets its own context (loaders, ledger notes), with
                 the connection's principal, purpose and case
              ─► a case-event subscription, once its own checks passed, joins the
                 live group of callers whose results are provably identical
                 (hub.events.groups): one shared run shapes each event, the
                 operation sends the `next` frames (payload encoded once) itself;
                 with `after`, it first replays the events after that id itself,
                 then takes the group's from the next one on
    while open ─► the token expires, or its service account is revoked: 4403, and
                 its operations stop at once (they leave their groups)

`SubscriptionSockets` (on `app.state.subscription_sockets`) holds every open socket:
`close_all(code, reason)` closes them (a graceful shutdown closes with 1001), and a
sweep every second closes those whose token expired or whose client was revoked.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import math
import time
from collections import Counter
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from functools import partial
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from auth.errors import AuthError
from auth.principal import ANONYMOUS, Principal
from hub.authentication import Authenticate
from hub.background import cancel_task
from hub.graphql_http import HttpError, HubRequestData, error_code, read_operation
from hub.graphql_view import HubGraphQL, RoleDispatcher
from hub.events.groups import LiveGroup, LiveGroups, Shared, group_key
from hub.persisted.documents import DocumentRefused, Resolved, ran
from hub.request_context import request_id_of
from schema.context import Context, Environment
from schema.errors import format_error
from schema.live import Established, Membership

log = logging.getLogger("simpul.subscriptions")

FORBIDDEN = 4403
TOO_MANY = 4429


def _token_expiry(header: str | None) -> float | None:
    """The `exp` of a bearer token that has already been validated."""
    if not header:
        return None
    try:
        payload = header.split(None, 1)[-1].split(".")[1]
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        exp = claims.get("exp")
        return float(exp) if isinstance(exp, (int, float)) else None
    except (IndexError, ValueError, orjson.JSONDecodeError):
        return None


def _principal_key(principal: Principal, address: str | None) -> str:
    return f"sub:{principal.subject}" if not principal.is_anonymous else f"addr:{address or '-'}"


class SubscriptionSockets:
    """The open subscription sockets of this instance."""

    def __init__(self, *, revoked: Callable[[str], bool] | None = None, max_per_principal: int = 20) -> None:
        self._sockets: dict[HubTransportWSHandler, tuple[str, float | None, str | None]] = {}
        self._per_principal: Counter[str] = Counter()
        self._revoked = revoked
        self.max_per_principal = max_per_principal
        self._task: asyncio.Task[None] | None = None
        self.opened = 0
        self.refused = Counter[int]()

    def __len__(self) -> int:
        return len(self._sockets)

    def admit(self, handler: HubTransportWSHandler, key: str, expires: float | None, client_id: str | None) -> bool:
        if self._per_principal[key] >= self.max_per_principal:
            return False
        self._per_principal[key] += 1
        self._sockets[handler] = (key, expires, client_id)
        self.opened += 1
        return True

    def leave(self, handler: HubTransportWSHandler) -> None:
        entry = self._sockets.pop(handler, None)
        if entry is not None:
            self._per_principal[entry[0]] -= 1
            if self._per_principal[entry[0]] <= 0:
                del self._per_principal[entry[0]]

    async def close_all(self, code: int = 1001, reason: str = "The server is shutting down") -> int:
        """Close every open subscription socket; returns how many."""
        handlers = list(self._sockets)
        for handler in handlers:
            await handler.close(code, reason)
        return len(handlers)

    async def sweep(self) -> None:
        """Close the sockets whose token expired or whose service account was revoked."""
        now = time.time()
        for handler, (_, expires, client_id) in list(self._sockets.items()):
            if expires is not None and now >= expires:
                await handler.close(FORBIDDEN, "Forbidden: the token has expired")
            elif client_id is not None and self._revoked is not None and self._revoked(client_id):
                await handler.close(FORBIDDEN, "Forbidden: the token's client was revoked")

    def start(self, interval: float = 1.0) -> None:
        async def loop() -> None:
            while True:
                await asyncio.sleep(interval)
                try:
                    await self.sweep()
                except Exception:  # a bug: keep sweeping
                    log.exception("subscription sockets: sweep failed")

        if self._task is None:
            self._task = asyncio.create_task(loop(), name="subscription-sweep")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_task(task)


def _formatted(errors: list[GraphQLError], request_id: str) -> list[dict[str, Any]]:
    out = []
    for error in errors:
        formatted = format_error(error, request_id=request_id)
        formatted.setdefault("extensions", {})["code"] = error_code(error, formatted)
        out.append(formatted)
    return out


class HubTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    view: SocketGraphQL

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.principal: Principal = ANONYMOUS
        self.closed = False
        self.scope: Scope = {}
        self.client_name: str | None = None  # X-Client-Name (hub.persisted.documents)
        self.requests: dict[str, HubRequestData] = {}  # subscribed, not yet started

    async def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self.view.sockets.leave(self)
        with contextlib.suppress(Exception):
            await self.websocket.close(code=code, reason=reason)
        current = asyncio.current_task()
        for operation_id, operation in list(self.operations.items()):  # they stop now, not when the peer answers
            if operation.task is not current:
                await self.cleanup_operation(operation_id)

    async def shutdown(self) -> None:
        self.view.sockets.leave(self)
        await super().shutdown()

    async def handle_connection_init(self, message: Any) -> None:
        if self.connection_timed_out:
            return
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        payload = message.get("payload") or {}
        if not isinstance(payload, dict):
            await self.close(4400, "Invalid connection init payload")
            return
        if self.connection_init_received:
            await self.close(TOO_MANY, "Too many initialisation requests")
            return
        self.connection_init_received = True
        view = self.view
        header = payload.get("Authorization", payload.get("authorization"))
        purpose, case = payload.get("purpose"), payload.get("case")
        client_name = payload.get("X-Client-Name")
        if not all(isinstance(v, (str, type(None))) for v in (header, purpose, case, client_name)):
            await self.close(4400, "Authorization, purpose, case and X-Client-Name are strings")
            return
        try:
            principal = await view.authenticate(header)
        except AuthError as exc:
            view.sockets.refused[FORBIDDEN] += 1
            await self.close(FORBIDDEN, f"Forbidden: {exc.message}"[:120])
            return
        websocket: WebSocket = self.context  # type: ignore[assignment]  # until the ack: the socket
        address = websocket.client.host if websocket.client else None
        self.client_name = client_name if client_name is not None else websocket.headers.get("x-client-name")
        key = _principal_key(principal, address)
        if not view.sockets.admit(self, key, _token_expiry(header), principal.client_id):
            view.sockets.refused[TOO_MANY] += 1
            self.closed = True
            with contextlib.suppress(Exception):
                await self.websocket.close(code=TOO_MANY, reason="Too many subscription sockets for this caller")
            return
        self.principal = principal
        self.scope = websocket.scope
        role_view = view.dispatcher.view_for(principal)
        self.schema = role_view.schema
        self.context = Context.create(view.env, principal, request_id=request_id_of(websocket.scope),
                                      purpose=purpose, case=case, address=address)
        await self.send_message({"type": "connection_ack"})
        self.connection_acknowledged = True

    async def handle_subscribe(self, message: Any) -> None:
        if self.connection_acknowledged and message.get("id") not in self.operations \
                and len(self.operations) >= self.view.max_operations:
            await self.close(TOO_MANY, "Too many operations on this socket")
            return
        payload = message.get("payload")
        if not isinstance(payload, dict) or not isinstance(message.get("id"), str):
            await self.close(4400, "A subscribe message needs an id and a payload with a query")
            return
        if not isinstance(payload.get("variables") or {}, dict) \
                or not isinstance(payload.get("operationName"), (str, type(None))) \
                or not isinstance(payload.get("extensions") or {}, dict):
            await self.close(4400, "variables and extensions are objects, operationName a string")
            return
        try:  # a query, or a persisted document named as over HTTP
            request = read_operation(payload)
        except HttpError as exc:
            await self.close(4400, exc.message[:120])
            return
        if self.connection_acknowledged and message["id"] not in self.operations:
            self.requests[message["id"]] = request
        await super().handle_subscribe({**message, "payload": {**payload, "query": request.query or ""}})

    async def cleanup_operation(self, operation_id: str) -> None:
        self.requests.pop(operation_id, None)  # completed before it started: nothing left behind
        await super().cleanup_operation(operation_id)

    async def run_operation(self, operation: Any) -> None:
        """As strawberry's, with a context of its own per operation and the hub's errors."""
        conn = self.context
        ctx = Context.create(conn.env, conn.principal, request_id=f"{conn.request_id}.{operation.id}",
                             purpose=conn.purpose, case=conn.case, address=conn.address)
        request = self.requests.pop(operation.id, None) or HubRequestData(query=operation.query)
        try:
            if await self._rate_limited(operation):
                return
            try:  # pushed operations, APQ and persisted-only roles, as over HTTP (hub.persisted)
                resolved = await self.view.documents.resolve(
                    query=request.query, document_id=request.document_id, extensions=request.extensions,
                    principal=conn.principal, client_header=self.client_name, method="POST")
            except DocumentRefused as exc:
                await operation.send_operation_message({"id": operation.id, "type": "error", "payload": [
                    {"message": exc.message, "extensions": {"code": exc.code}}]})
                return
            sent = _Sent()
            if self.view.groups is not None and resolved.query is not None:
                ctx.live_group = partial(self._join_group, operation, resolved, ctx, sent)
            result_source = await self.schema.stream(
                resolved.query, variable_values=operation.variables, context_value=ctx,
                root_value=self.root_value, operation_name=operation.operation_name,
            )
            async with aclosing(self.view.documents.kept_once_run(result_source, resolved)) as results:
                await self._send_results(operation, results, ctx.request_id, sent)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except _Closed:
            return
        except GraphQLError as error:  # raised while parsing (the hub's document limits, a syntax error)
            reason = self._get_pre_execution_close_reason(error)
            if reason:
                self.operations.pop(operation.id, None)
                await self.close(4400, reason[:120])
                return
            await operation.send_operation_message({"id": operation.id, "type": "error",
                                                    "payload": _formatted([error], ctx.request_id)})
        except Exception as error:
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise
        finally:
            ctx.release()

    def _join_group(self, operation: Any, resolved: Resolved, ctx: Context,
                    sent: _Sent) -> AbstractAsyncContextManager[Membership]:
        """`ctx.live_group` (schema.live): called by the resolver once the operation's own
        checks passed; joins the live group of its key, whose frames it sends once it
        takes over, until it leaves."""
        groups = self.view.groups
        assert groups is not None and resolved.query is not None
        query, variables, name = resolved.query, operation.variables, operation.operation_name
        established = Established.of(ctx)
        key = group_key(schema=self.schema, principal=ctx.principal, purpose=ctx.purpose, case=ctx.case,
                        established=established, query=query, variables=variables, operation_name=name,
                        selected=ctx.selected)
        schema, root_value, env = self.schema, self.root_value, ctx.env
        principal, purpose, case = ctx.principal, ctx.purpose, ctx.case

        async def lead(group: LiveGroup) -> AsyncGenerator[Any, None]:
            leader = Context.create(env, principal, request_id=group.request_id, purpose=purpose, case=case)
            leader.live_leader = group
            established.put_in_force(leader)
            try:
                results = await schema.stream(query, variable_values=variables, context_value=leader,
                                              root_value=root_value, operation_name=name)
                async with aclosing(results):
                    async for result in results:
                        yield result
            finally:
                leader.release()

        prefix = '{"id":' + orjson.dumps(operation.id).decode() + ',"type":"next","payload":'
        register = [resolved.register] if resolved.register is not None else []  # APQ: kept once it ran

        async def send(shared: Shared) -> bool:
            """As `_send_results` sends one result, from the payload encoded once."""
            if operation.completed or self.closed:
                return False
            payload, result = shared.payload, shared.result
            if payload is None:  # errors name the member's request id
                errors = _formatted(list(result.errors), ctx.request_id)
                if not sent.any and result.data is None:  # refused before its first event: no event ever
                    await operation.send_operation_message({"id": operation.id, "type": "error", "payload": errors})
                    return False
                payload = self.view.encode_json({"data": result.data, "errors": errors})
            try:
                await self.websocket.ws.send_text(prefix + payload + "}")  # type: ignore[attr-defined]
            except WebSocketDisconnect:
                return False
            sent.any = True
            if register and ran(result):
                await self.view.documents.remember(register.pop(), query)
            return True

        return groups.join(key, ctx, lead, send)

    async def _rate_limited(self, operation: Any) -> bool:
        """Count the operation as one request of the caller (queries and mutations run
        over the socket too); past the limit, an `error` message instead of a run."""
        check = self.view.rate_limit
        wait = await check(self.scope, self.principal) if check is not None else None
        if wait is None:
            return False
        seconds = max(1, math.ceil(wait))
        await operation.send_operation_message({"id": operation.id, "type": "error", "payload": [
            {"message": f"Too many requests; try again in {seconds} s",
             "extensions": {"code": "RATE_LIMITED", "retryAfter": seconds}}]})
        return True

    async def _send_results(self, operation: Any, results: Any, request_id: str, sent: _Sent) -> None:
        first = True
        async for result in results:
            if first and isinstance(result, PreExecutionError):
                assert result.errors
                reason = self._get_pre_execution_close_reason(result.errors[0])
                if reason:
                    await self.close(4400, reason[:120])
                    self.operations.pop(operation.id, None)
                    raise _Closed
            if not isinstance(result, ExecutionResult):
                await operation.send_operation_message({"id": operation.id, "type": "error", "payload": [
                    {"message": "Incremental delivery is not supported over graphql-transport-ws",
                     "extensions": {"code": "BAD_REQUEST"}}]})
                return
            errors = _formatted(list(result.errors or ()), request_id)
            if first and result.data is None and errors:  # refused before it started: no event ever
                await operation.send_operation_message({"id": operation.id, "type": "error", "payload": errors})
                return
            payload: dict[str, Any] = {"data": result.data}
            if errors:
                payload["errors"] = errors
            await operation.send_operation_message({"id": operation.id, "type": "next", "payload": payload})
            first, sent.any = False, True


class _Sent:
    """Whether an operation sent a `next` frame yet (its replay's, or its group's)."""

    __slots__ = ("any",)

    def __init__(self) -> None:
        self.any = False


class _Closed(Exception):
    """The operation closed the socket."""


class SocketGraphQL(HubGraphQL):
    """The WebSocket side of `/graphql`: one view for every caller, whose schema is
    chosen once the caller is known (`connection_init`)."""

    graphql_transport_ws_handler_class = HubTransportWSHandler

    def __init__(self, dispatcher: RoleDispatcher, *, env: Environment, authenticate: Authenticate,
                 sockets: SubscriptionSockets, max_operations: int, init_timeout: float,
                 allowed_origins: list[str],
                 rate_limit: Callable[[Scope, Principal], Awaitable[float | None]] | None = None,
                 group_subscribers: bool = True, subscriber_queue: int = 1000) -> None:
        public = dispatcher.view_for(ANONYMOUS)
        super().__init__(public.schema, env=env, documents=public.documents, graphiql=False)
        self.dispatcher = dispatcher
        self.authenticate = authenticate
        self.sockets = sockets
        self.max_operations = max_operations
        self.rate_limit = rate_limit  # hub.ratelimit.RateLimitMiddleware.check, when limits are on
        # subscribers that may share a run of their subscription (hub.events.groups); None: each runs alone
        events = env.events
        self.groups = LiveGroups(queue_limit=subscriber_queue, encode=self.encode_json,
                                 position=lambda: events.last_id if events is not None else 0) \
            if group_subscribers else None
        self.protocols = (GRAPHQL_TRANSPORT_WS_PROTOCOL,)
        self.connection_init_wait_timeout = timedelta(seconds=init_timeout)
        self.max_subscriptions_per_connection = None  # counted here, closing with 4429
        from strawberry.http.websocket_origin import normalize_allowed_origins

        self.allowed_origins = normalize_allowed_origins(allowed_origins)

    def encode_json(self, data: object) -> str:  # type: ignore[override]
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode()  # text frames, as the protocol says

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Any:
        return request  # replaced by the caller's Context once `connection_init` authenticates it


__all__ = ["SocketGraphQL", "SubscriptionSockets"]
