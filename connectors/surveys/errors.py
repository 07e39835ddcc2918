"""Errors of the survey store.

    SurveyError                  code BAD_USER_INPUT, with a `reason`
     ├── InvalidSurvey           a value the store cannot hold (INVALID_SURVEY)
     ├── AlreadySurveyed         the linked application has its survey (ALREADY_SURVEYED)
     └── IdempotencyConflict     the key was used for a different response
                                 (IDEMPOTENCY_CONFLICT)
    SurveyStoreUnavailable       the hub store cannot be reached (SOURCE_UNAVAILABLE,
                                 source "surveys"; a ConnectorError)
"""

from __future__ import annotations

from connectors.errors import SourceUnavailable

SOURCE_ID = "surveys"


class SurveyError(Exception):
    code = "BAD_USER_INPUT"
    reason = "INVALID_SURVEY"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidSurvey(SurveyError):
    reason = "INVALID_SURVEY"


class AlreadySurveyed(SurveyError):
    reason = "ALREADY_SURVEYED"


class IdempotencyConflict(SurveyError):
    reason = "IDEMPOTENCY_CONFLICT"


class SurveyStoreUnavailable(SourceUnavailable):
    def __init__(self, message: str, *, operation: str | None = None) -> None:
        super().__init__(SOURCE_ID, message, operation=operation)
