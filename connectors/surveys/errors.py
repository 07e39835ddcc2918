"""Errors of the survey store; their place in the connectors package's tree is drawn
in connectors.errors."""

from __future__ import annotations

from connectors.errors import ConnectorPackageError, SourceUnavailable

SOURCE_ID = "surveys"


class SurveyError(ConnectorPackageError):
    code = "BAD_USER_INPUT"
    reason = "INVALID_SURVEY"

    def __init__(self, message: str) -> None:
        super().__init__(message, details={"reason": self.reason})


class InvalidSurvey(SurveyError):
    reason = "INVALID_SURVEY"


class AlreadySurveyed(SurveyError):
    reason = "ALREADY_SURVEYED"


class IdempotencyConflict(SurveyError):
    reason = "IDEMPOTENCY_CONFLICT"


class SurveyStoreUnavailable(SourceUnavailable):
    def __init__(self, message: str, *, operation: str | None = None) -> None:
        super().__init__(SOURCE_ID, message, operation=operation)
