"""Per request: which document runs, when the request names one instead of sending it.

Wire forms (POST body or GET query string, an HTTP multipart subscription, or the
payload of a graphql-transport-ws `subscribe`; `variables` and `operationName` as usual):

    {"documentId": "<id>"}
        an operation pushed with `hub operations push CLIENT FILE`
        (the GraphQL over HTTP persisted-documents form; `sha256:<hex>` is read as
        `<hex>`, the id Apollo's manifests give; `doc_id`, as Relay's documentation
        sends it, is read as `documentId`)
    {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}}
        Apollo's form: a pushed operation with that id, else an automatic persisted
        query (APQ) registered earlier; a miss is PERSISTED_QUERY_NOT_FOUND
    {"query": "...", "extensions": {"persistedQuery": {...}}}
        APQ registration (POST): the hash must be the text's SHA-256; the text runs
        as any document and is kept once it validated for the caller

A pushed operation is looked up under the caller's client: its token's client
(`client_id`/`azp`), else the `X-Client-Name` header (for apps whose tokens carry no
client, and the anonymous public); it runs only for a caller holding the roles of a
role set it was validated for at push, and is validated again, like every document, against the
caller's own schema. A caller the policy holds to pushed operations
(`Policy.persisted_only`) may send nothing else: a `query` (an APQ registration
included) is PERSISTED_QUERY_REQUIRED and an APQ hash finds only pushed operations.

Codes: PERSISTED_QUERY_NOT_FOUND, PERSISTED_QUERY_REQUIRED,
PERSISTED_QUERY_HASH_MISMATCH, PERSISTED_QUERY_NOT_SUPPORTED (APQ turned off),
PERSISTED_QUERY_UNAVAILABLE (503: the hub store cannot be read), BAD_REQUEST (a
malformed `persistedQuery` or client name).
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.types.execution import ExecutionResult, PreExecutionError

from auth.policy import Policy
from auth.principal import ANONYMOUS_ROLE, Principal
from hub.persisted.apq import ApqStore
from hub.persisted.manifest import CLIENT_NAME, OPERATION_ID, sha256_hex
from hub.persisted.operations import StoredOperation, find_operation
from hub.settings import PersistedQuerySettings

log = logging.getLogger("simpul.persisted")
_SHA256 = re.compile(r"[0-9a-f]{64}")
NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
REQUIRED = "PERSISTED_QUERY_REQUIRED"
HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
UNAVAILABLE = "PERSISTED_QUERY_UNAVAILABLE"


class DocumentRefused(Exception):
    """The request's document cannot run; answered as a request error with `code`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Resolved:
    query: str | None  # None: no document at all (the view says so as for any request)
    register: str | None = None  # an APQ hash to register `query` under once it validated


class PersistedDocuments:
    def __init__(self, engine: AsyncEngine, policy: Policy, settings: PersistedQuerySettings, *,
                 on_apq: Callable[[str, int], None] | None = None) -> None:
        self._engine = engine
        self._policy = policy
        self.apq_enabled = settings.apq_enabled
        self.apq = ApqStore(
            engine,
            max_entries=settings.apq_max_entries,
            max_bytes=settings.apq_max_document_bytes,
            max_total_bytes=settings.apq_max_total_bytes,
            ttl_seconds=settings.apq_ttl_days * 86400,
            on_outcome=on_apq,
        )
        ttl = settings.operation_cache_seconds
        self._operations: TTLCache[tuple[str, str], StoredOperation] | None = (
            TTLCache(maxsize=2048, ttl=ttl) if ttl > 0 else None
        )

    async def resolve(
        self,
        *,
        query: str | None,
        document_id: str | None,
        extensions: Mapping[str, Any] | None,
        principal: Principal,
        client_header: str | None,
        method: str,
    ) -> Resolved:
        persisted_only = self._policy.persisted_only(principal)
        hashed = _persisted_query(extensions)
        client = principal.client_id or client_header  # checked when used (_find)
        if document_id is not None:
            return Resolved(await self._pushed(client, document_id, principal))
        if hashed is None:
            if persisted_only and query is not None:
                raise DocumentRefused(REQUIRED, _required_message(client))
            return Resolved(query)
        if query is None:  # a hash alone: a pushed operation, else an APQ document
            operation = await self._find(client, hashed, principal)
            if operation is not None:
                return Resolved(operation.operation.body)
            if persisted_only:
                raise DocumentRefused(NOT_FOUND, f"No pushed operation {hashed!r} for client {client!r}"
                                      if client else "PersistedQueryNotFound")
            if not self.apq_enabled:
                raise DocumentRefused(NOT_SUPPORTED, "PersistedQueryNotSupported")
            try:
                body = await self.apq.get(hashed)
            except SQLAlchemyError as exc:
                raise _unavailable(exc) from exc
            if body is None:
                raise DocumentRefused(NOT_FOUND, "PersistedQueryNotFound")
            return Resolved(body)
        if sha256_hex(query) != hashed:
            raise DocumentRefused(HASH_MISMATCH, "persistedQuery.sha256Hash is not the SHA-256 of the query text")
        if persisted_only:
            operation = await self._find(client, hashed, principal)
            if operation is None or operation.operation.body != query:
                raise DocumentRefused(REQUIRED, _required_message(client))
            return Resolved(query)
        if not self.apq_enabled:
            raise DocumentRefused(NOT_SUPPORTED, "PersistedQueryNotSupported")
        return Resolved(query, register=hashed if method == "POST" else None)

    def kept_once_run(self, results: AsyncGenerator[Any, None], resolved: Resolved) -> AsyncGenerator[Any, None]:
        """A stream of results (a subscription, or an operation over a streaming transport)
        that keeps its APQ registration once the first result shows the document ran for
        the caller, as a request over HTTP does (for a subscription: at its first event)."""
        register, query = resolved.register, resolved.query
        if register is None or query is None:
            return results

        async def kept() -> AsyncGenerator[Any, None]:
            async with aclosing(results):
                first = True
                async for result in results:
                    if first and ran(result):
                        await self.remember(register, query)
                    first = False
                    yield result

        return kept()

    async def remember(self, sha256: str, body: str) -> None:
        """Keep an APQ document that validated for its caller (see hub.persisted.apq).
        A store that cannot take it costs the client one more registration, not its answer."""
        try:
            await self.apq.put(sha256, body)
        except Exception:
            log.warning("could not keep an automatic persisted query", exc_info=True)

    async def _pushed(self, client: str | None, document_id: str, principal: Principal) -> str:
        if not OPERATION_ID.fullmatch(document_id):
            raise DocumentRefused("BAD_REQUEST", "`documentId` must be 1-200 printable characters without spaces")
        bare = document_id.removeprefix("sha256:")
        operation = await self._find(client, document_id, principal)
        if operation is None and bare != document_id:
            operation = await self._find(client, bare, principal)
        if operation is None:
            where = f"client {client!r}" if client else "no client (name it with X-Client-Name)"
            raise DocumentRefused(NOT_FOUND, f"No pushed operation {document_id[:80]!r} for {where} and your role")
        return operation.operation.body

    async def _find(self, client: str | None, operation_id: str, principal: Principal) -> StoredOperation | None:
        """The client's operation `operation_id`, if the caller holds a role it was
        validated for."""
        if client is None:
            return None
        if client != principal.client_id:
            _client_name(client)
        key = (client, operation_id)
        operation = self._operations.get(key) if self._operations is not None else None
        if operation is None:
            try:
                async with self._engine.connect() as conn:
                    operation = await find_operation(conn, client, operation_id)
            except SQLAlchemyError as exc:
                raise _unavailable(exc) from exc
            if operation is None:
                return None
            if self._operations is not None:
                self._operations[key] = operation
        roles = self._policy.expand(principal.roles) or self._policy.expand(ANONYMOUS_ROLE)
        return operation if operation.may_run(roles) else None


def ran(result: object) -> bool:
    """Whether a result shows that its document parsed and validated for the caller (it
    ran: data, or errors at a path), so that an APQ registration may be kept."""
    return (isinstance(result, ExecutionResult) and not isinstance(result, PreExecutionError)
            and (result.data is not None or any(error.path for error in result.errors or ())))


def _persisted_query(extensions: Mapping[str, Any] | None) -> str | None:
    """The SHA-256 named by `extensions.persistedQuery`, or None when there is none."""
    value = (extensions or {}).get("persistedQuery")
    if value is None:
        return None
    if (
        not isinstance(value, dict)
        or value.get("version") != 1
        or not isinstance(value.get("sha256Hash"), str)
        or not _SHA256.fullmatch(value["sha256Hash"])
    ):
        raise DocumentRefused(
            "BAD_REQUEST",
            "extensions.persistedQuery must be {\"version\": 1, \"sha256Hash\": <64 lowercase hex digits>}",
        )
    return str(value["sha256Hash"])


def _unavailable(exc: Exception) -> DocumentRefused:
    log.warning("the hub store of persisted operations cannot be read", exc_info=exc)
    return DocumentRefused(UNAVAILABLE, "Persisted operations cannot be read right now; try again shortly")


def _client_name(header: str | None) -> str | None:
    if header is None:
        return None
    if not CLIENT_NAME.fullmatch(header):
        raise DocumentRefused("BAD_REQUEST", "X-Client-Name must be 1-64 letters, digits, '.', '_' or '-'")
    return header


def _required_message(client: str | None) -> str:
    who = f"client {client!r}" if client else "your role"
    return (f"Only pushed operations may run for {who}: send `documentId` (or an APQ hash) of an "
            "operation registered with `hub operations push`, not the document text")


__all__ = ["DocumentRefused", "PersistedDocuments", "Resolved", "ran"]
