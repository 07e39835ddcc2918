"""The connectors package's error tree, drawn whole here (the survey store's errors live
in connectors.surveys.errors):

    ConnectorPackageError                every connector error: `code`, safe `message`,
     │                                   `details`
     ├── ConnectorError                  SOURCE_UNAVAILABLE (details: `source`, `operation`)
     │    ├── SourceUnavailable          the source cannot be reached or answered 5xx
     │    │    ├── SourceTimeout         no answer within the configured timeout
     │    │    ├── CircuitOpen           the hub stopped calling a failing source for a while
     │    │    └── SurveyStoreUnavailable  the hub store cannot be reached (source "surveys")
     │    ├── SourceRejected             BAD_USER_INPUT: the source refused the request
     │    │                              (4xx other than 404)
     │    └── RecordNotFound             NOT_FOUND: a single named record does not exist
     ├── InvalidNik                      BAD_USER_INPUT: not 16 digits, or an impossible date
     │                                   part (connectors.nik; also a ValueError)
     └── SurveyError                     BAD_USER_INPUT, with a `reason`
          ├── InvalidSurvey              a value the store cannot hold (INVALID_SURVEY)
          ├── AlreadySurveyed            the linked application has its survey
          │                              (ALREADY_SURVEYED)
          └── IdempotencyConflict        the key was used for a different response
                                         (IDEMPOTENCY_CONFLICT)

Backends translate their own library's exceptions (SQLAlchemy, httpx) into these at
one boundary each and re-raise with ``from exc``. `message` is safe to show and
`details` are the extensions beside `code`: the schema maps them into GraphQL errors
in one place (schema.errors).

A source's own words (its error text and codes, its status codes: Indonesian in the
sample systems, e.g. `BERKAS_TIDAK_LENGKAP`, `[TRANSISI_TIDAK_VALID]`) never go into
`message` or `details`: clients see the hub's vocabulary only. They are kept in
`source_says`, for the log and the operator, and the schema turns the refusals it
knows (a workflow transition) into errors in the hub's terms (schema.mutations).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ConnectorPackageError(Exception):
    """The base of the connectors package's errors (see the tree above)."""

    code = "INTERNAL"

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})


class ConnectorError(ConnectorPackageError):
    code = "SOURCE_UNAVAILABLE"

    def __init__(
        self, source: str, message: str, *, operation: str | None = None, source_says: str | None = None
    ) -> None:
        details = {"source": source} if operation is None else {"source": source, "operation": operation}
        super().__init__(message, details=details)
        self.source = source
        self.operation = operation
        self.source_says = source_says  # the source's own words: logged, never shown (see above)

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


class SourceUnavailable(ConnectorError):
    pass


class SourceTimeout(SourceUnavailable):
    pass


class CircuitOpen(SourceUnavailable):
    pass


class SourceRejected(ConnectorError):
    """`source_code` is the source's own error code (`kode`, e.g. a reused idempotency
    key), for the schema to tell refusals apart; like `source_says`, never shown."""

    code = "BAD_USER_INPUT"

    def __init__(
        self,
        source: str,
        message: str,
        *,
        operation: str | None = None,
        source_says: str | None = None,
        source_code: str = "",
    ) -> None:
        super().__init__(source, message, operation=operation, source_says=source_says)
        self.source_code = source_code


class RecordNotFound(ConnectorError):
    code = "NOT_FOUND"
