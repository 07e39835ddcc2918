"""Errors the GraphQL layer raises, and the one place where any error becomes a GraphQL
error with a code.

    HubError                     every error of the schema package: `code`, safe `message`,
     │                           `details` (the extensions beside `code`)
     ├── BadUserInput            BAD_USER_INPUT
     ├── NotFound                NOT_FOUND
     ├── Forbidden               FORBIDDEN
     ├── PurposeRequired         PURPOSE_REQUIRED
     ├── QueryTooComplex         QUERY_TOO_COMPLEX (details: `cost`, `maximum`)
     ├── RateLimited             RATE_LIMITED (details: `retryAfter`)
     ├── ServiceUnavailable      SOURCE_UNAVAILABLE: a hub service (metrics, surveys) that
     │                           is not configured (details: `source`)
     └── LedgerRefused           LEDGER_UNAVAILABLE

The other packages draw their own trees with the same three attributes: auth.errors
(`AuthPackageError`: UNAUTHENTICATED, FORBIDDEN, IDENTITY_UNAVAILABLE, BAD_USER_INPUT,
...) and connectors.errors (`ConnectorPackageError`: SOURCE_UNAVAILABLE with `source`,
NOT_FOUND, BAD_USER_INPUT). `error_extensions` maps all three alike. Anything else, and
any `INTERNAL`, is unexpected: it is logged with the request id and reaches the client
only as INTERNAL with that id. No message carries a NIK or family card number: every
16-digit number in one is masked (a source's error may quote the keys of records the
caller may not see; graphql-core's may quote the document).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from auth.errors import AuthPackageError
from auth.masks import in_text
from connectors.errors import ConnectorPackageError
from schema.unavailable import for_the_role

log = logging.getLogger("simpul.errors")

#: the bases of the error trees whose `code`, `message` and `details` a client may see
CODED_ERRORS = (AuthPackageError, ConnectorPackageError)


class HubError(Exception):
    code = "INTERNAL"

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})


class BadUserInput(HubError):
    code = "BAD_USER_INPUT"


class NotFound(HubError):
    code = "NOT_FOUND"


class Forbidden(HubError):
    code = "FORBIDDEN"


class PurposeRequired(HubError):
    code = "PURPOSE_REQUIRED"


class QueryTooComplex(HubError):
    code = "QUERY_TOO_COMPLEX"


class RateLimited(HubError):
    code = "RATE_LIMITED"


class ServiceUnavailable(HubError):
    """A service of the hub itself (not a source system) that is not configured."""

    code = "SOURCE_UNAVAILABLE"

    def __init__(self, source: str, message: str) -> None:
        super().__init__(message, details={"source": source})


class LedgerRefused(HubError):
    """Personal data asked for where no access ledger can record it."""

    code = "LEDGER_UNAVAILABLE"


def error_extensions(exc: BaseException | None) -> dict[str, Any] | None:
    """`extensions` for an expected error, or None when the error is unexpected."""
    if isinstance(exc, (HubError, *CODED_ERRORS)) and exc.code != "INTERNAL":
        return {"code": exc.code, **exc.details}
    return None


#: how graphql-core's parser says it stopped at one of the limits it was given
_PARSE_LIMITS = {
    "Source contains more than": "length",
    "Document contains more than": "tokens",
    "Document is nested too deeply": "nesting",
}


def parse_limit(error: GraphQLError) -> str | None:
    """The limit the parser refused the document for (its size, not its syntax: one of
    the role's document limits, QUERY_TOO_COMPLEX), or None."""
    if isinstance(error, GraphQLSyntaxError):
        found = (limit for text, limit in _PARSE_LIMITS.items() if error.message.startswith(f"Syntax Error: {text}"))
        return next(found, None)  # (a quoted token comes later in a message: it cannot pass for one)
    return None


def _operation_refusal(exc: BaseException | None) -> str | None:
    """What strawberry found wrong with the request's operation before it ran (it hands
    these on as errors when the operation streams: a subscription over HTTP multipart)."""
    if isinstance(exc, InvalidOperationTypeError):
        kind = exc.operation_type.value
        return (f"A {kind} does not stream: only subscriptions are answered as multipart/mixed; send "
                f"the {kind} with Accept: application/json")
    if isinstance(exc, CannotGetOperationTypeError):
        return exc.as_http_error_reason()
    if isinstance(exc, MissingQueryError):
        return "No GraphQL query found: give `query` as a string"
    return None


def format_error(error: GraphQLError, *, request_id: str) -> dict[str, Any]:
    """The JSON form of one error, masking anything unexpected."""
    original = error.original_error
    if isinstance(original, GraphQLError):
        # graphql-core wraps its own input coercion errors (a bad enum value in a variable)
        original = None
    if original is None:
        # parse and validation errors, and errors graphql-core raised for bad variables
        formatted = error.formatted
        extensions = dict(formatted.get("extensions") or {})
        limit = parse_limit(error)
        if limit is not None:
            extensions.update(code="QUERY_TOO_COMPLEX", limit=limit)
        extensions.setdefault(
            "code", "BAD_USER_INPUT" if error.path or error.original_error else "GRAPHQL_VALIDATION_FAILED"
        )
        formatted["extensions"] = extensions
        formatted["message"] = in_text(for_the_role(formatted["message"]))
        return dict(formatted)
    refusal = _operation_refusal(original)
    if refusal is not None:  # the request, not the hub: a clear BAD_REQUEST, no traceback
        return {**error.formatted, "message": refusal, "extensions": {"code": "BAD_REQUEST"}}
    extensions = error_extensions(original)
    formatted = dict(error.formatted)
    if extensions is None:
        log.error(
            "unexpected error in request %s at %s",
            request_id,
            error.path,
            exc_info=(type(original), original, original.__traceback__),
        )
        formatted["message"] = f"Internal error; quote request id {request_id}"
        extensions = {"code": "INTERNAL", "requestId": request_id}
    else:
        says = getattr(original, "source_says", None)  # a source's own words: logged, never shown
        log.info("request %s: %s at %s: %s%s", request_id, extensions["code"], error.path, original,
                 f" (the source said: {in_text(says)})" if says else "")
    formatted["extensions"] = extensions
    formatted["message"] = in_text(formatted["message"])
    return formatted
