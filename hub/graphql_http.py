"""GraphQL over HTTP (the GraphQL Foundation's specification), the parts the hub adds
to strawberry's view: reading a request strictly, choosing the response media type,
the status code of a result, and errors with codes for requests that never reach
GraphQL.

    application/graphql-response+json   when the client accepts it: request errors
                                        (parse, validation, variables, refusals
                                        before execution) are HTTP 4xx with no
                                        `data` entry
    application/json                    legacy clients: 200 for every well-formed
                                        request, as the specification advises

Requests that are not well-formed get a JSON error with `extensions.code`:

    BAD_REQUEST              unparsable JSON, a body that is not an object, a query
                             or operationName that is not a string, variables or
                             extensions that are not objects, no query (nor a
                             `documentId` or `extensions.persistedQuery`, see
                             hub.persisted.documents), both a query and a
                             `documentId`, unknown operation name
    BATCH_NOT_SUPPORTED      a JSON array of operations (one operation per request)
    UNSUPPORTED_MEDIA_TYPE   415: a POST that is not application/json (UTF-8)
    NOT_ACCEPTABLE           406: an Accept header allowing neither JSON media type
    METHOD_NOT_ALLOWED       405: a mutation over GET, or a method other than GET/POST
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.http import GraphQLRequestData

from hub.json_errors import JSON, code_for_status, status_for_code

GRAPHQL_RESPONSE = "application/graphql-response+json"


@dataclass
class HubRequestData(GraphQLRequestData):
    """An operation as read from the request; `query` is None when the request names a
    persisted document instead (`document_id`, or `extensions.persistedQuery`)."""

    document_id: str | None = None


class HttpError(Exception):
    """A request refused before GraphQL runs."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    @classmethod
    def of_status(cls, status: int, message: str) -> HttpError:
        return cls(status, code_for_status(status), message)


# -- content negotiation -------------------------------------------------------------


def _media_ranges(accept: str) -> list[tuple[str, float, int]]:
    ranges = []
    for index, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        quality = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranges.append((media, quality, index))
    return ranges


def response_media_type(accept: str | None) -> str | None:
    """The media type to answer with, or None when the client accepts neither.

    No Accept header, or a wildcard, means application/json (legacy clients);
    application/graphql-response+json is used when the client names it and prefers
    it at least as much as application/json."""
    if not accept or not accept.strip():
        return JSON
    best: tuple[float, int, str] | None = None
    for media, quality, index in _media_ranges(accept):
        if quality <= 0:
            continue
        if media == GRAPHQL_RESPONSE:
            candidate = (quality, 1, GRAPHQL_RESPONSE)
        elif media in (JSON, "application/*", "*/*"):
            candidate = (quality, 0 if media == JSON else -1, JSON)
        else:
            continue
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return best[2] if best else None


# -- reading the request -------------------------------------------------------------


def _json(raw: bytes | str, what: str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise HttpError(400, "BAD_REQUEST", f"{what} is not valid JSON (UTF-8): {exc.msg}") from exc


def _check_content_type(content_type: str | None) -> None:
    if not content_type:
        raise HttpError(415, "UNSUPPORTED_MEDIA_TYPE", "Send the operation as application/json")
    media, *params = [p.strip() for p in content_type.split(";")]
    if media.lower() != JSON:
        raise HttpError(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            f"Content-Type {media[:60]!r} is not supported; send application/json",
        )
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise HttpError(415, "UNSUPPORTED_MEDIA_TYPE", "Only the UTF-8 charset is supported")


def read_operation(data: object) -> HubRequestData:
    """An operation from a decoded JSON object (a POST body, or a graphql-transport-ws
    `subscribe` payload)."""
    if isinstance(data, list):
        raise HttpError(
            400,
            "BATCH_NOT_SUPPORTED",
            "A JSON array of operations is not supported; send one operation per request",
        )
    if not isinstance(data, dict):
        raise HttpError(400, "BAD_REQUEST", "The request body must be a JSON object with a `query`")
    query = data.get("query")
    if query is not None and not isinstance(query, str):
        raise HttpError(400, "BAD_REQUEST", "`query` must be a string")
    if query is not None and not query.strip():
        query = None
    document_id = data.get("documentId")
    relay_id = data.get("doc_id")  # what Relay's documentation has its network layer send
    if relay_id is not None:
        if document_id is not None and document_id != relay_id:
            raise HttpError(400, "BAD_REQUEST", "Give `documentId` or `doc_id`, not two different ids")
        document_id = relay_id
    if document_id is not None and (not isinstance(document_id, str) or not document_id):
        raise HttpError(400, "BAD_REQUEST", "`documentId` must be a non-empty string")
    name = data.get("operationName")
    if name is not None and not isinstance(name, str):
        raise HttpError(400, "BAD_REQUEST", "`operationName` must be a string or null")
    variables = data.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise HttpError(400, "BAD_REQUEST", "`variables` must be a JSON object or null")
    extensions = data.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise HttpError(400, "BAD_REQUEST", "`extensions` must be a JSON object or null")
    if query is None and document_id is None and (extensions or {}).get("persistedQuery") is None:
        raise HttpError(400, "BAD_REQUEST", "No GraphQL query found: give `query` as a string")
    if query is not None and document_id is not None:
        raise HttpError(400, "BAD_REQUEST", "Give either `query` or `documentId`, not both")
    return HubRequestData(
        query=query, variables=variables, operation_name=name or None, extensions=extensions,
        document_id=document_id,
    )


def read_get(params: Mapping[str, str | list[str] | None]) -> HubRequestData:
    """An operation from a GET query string (`query` or `documentId`/`doc_id`, `operationName`,
    `variables` and `extensions` as JSON)."""
    data: dict[str, Any] = {}
    for key in ("query", "documentId", "doc_id", "operationName", "variables", "extensions"):
        raw = params.get(key)
        if isinstance(raw, list):
            raise HttpError(400, "BAD_REQUEST", f"`{key}` is given more than once")
        if raw and key in ("variables", "extensions"):
            data[key] = _json(raw, f"`{key}`")
        elif raw is not None and key not in ("variables", "extensions"):
            data[key] = raw
    return read_operation(data)


def read_post(content_type: str | None, body: bytes) -> HubRequestData:
    _check_content_type(content_type)
    if not body.strip():
        raise HttpError(400, "BAD_REQUEST", "The request body is empty; send a JSON object with a `query`")
    return read_operation(_json(body, "The request body"))


# -- answering -----------------------------------------------------------------------


def error_code(error: GraphQLError, formatted: dict[str, Any]) -> str:
    """A sharper code for errors graphql-core raises before execution."""
    code = str((formatted.get("extensions") or {}).get("code", ""))
    if isinstance(error, GraphQLSyntaxError):
        return code if code == "QUERY_TOO_COMPLEX" else "GRAPHQL_PARSE_FAILED"  # a parser limit: see format_error
    if code == "GRAPHQL_VALIDATION_FAILED" and error.message.startswith("Variable '$"):
        return "BAD_USER_INPUT"  # a variable value of the wrong shape
    return code


def is_request_error(data: object, errors: list[dict[str, Any]]) -> bool:
    """A result without data whose errors have no path: nothing was executed."""
    return data is None and bool(errors) and all(not e.get("path") for e in errors)


def request_error_status(errors: list[dict[str, Any]]) -> int:
    """400, unless a code says the hub rather than the request failed (5xx)."""
    codes = [str((e.get("extensions") or {}).get("code", "")) for e in errors]
    return max((s for s in map(status_for_code, codes) if s >= 500), default=400)


__all__ = [
    "GRAPHQL_RESPONSE",
    "JSON",
    "HttpError",
    "HubRequestData",
    "error_code",
    "is_request_error",
    "read_get",
    "read_operation",
    "read_post",
    "request_error_status",
    "response_media_type",
]
