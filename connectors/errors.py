"""The connector error tree.

    ConnectorError                 code SOURCE_UNAVAILABLE unless said otherwise
     ├── SourceUnavailable         the source cannot be reached or answered 5xx
     │    ├── SourceTimeout        no answer within the configured timeout
     │    └── CircuitOpen          the hub stopped calling a failing source for a while
     ├── SourceRejected            the source refused the request (4xx other than 404)
     │                             code BAD_USER_INPUT
     └── RecordNotFound            a single named record does not exist; code NOT_FOUND

Backends translate their own library's exceptions (SQLAlchemy, httpx) into these at
one boundary each and re-raise with ``from exc``. The schema layer maps `code` and
`source` into GraphQL `extensions`.
"""

from __future__ import annotations


class ConnectorError(Exception):
    code = "SOURCE_UNAVAILABLE"

    def __init__(self, source: str, message: str, *, operation: str | None = None) -> None:
        super().__init__(message)
        self.source = source
        self.operation = operation
        self.message = message

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


class SourceUnavailable(ConnectorError):
    pass


class SourceTimeout(SourceUnavailable):
    pass


class CircuitOpen(SourceUnavailable):
    pass


class SourceRejected(ConnectorError):
    code = "BAD_USER_INPUT"


class RecordNotFound(ConnectorError):
    code = "NOT_FOUND"
