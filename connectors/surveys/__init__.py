"""The satisfaction-survey store (issue 6): responses in the hub store, aggregated in SQL."""

from connectors.surveys.codes import SCORE_COUNT, AgeGroup, Education, Occupation, Refusal
from connectors.surveys.errors import (
    AlreadySurveyed,
    IdempotencyConflict,
    InvalidSurvey,
    SurveyError,
    SurveyStoreUnavailable,
)
from connectors.surveys.store import (
    ScoreTotals,
    SurveyReceipt,
    SurveyResponse,
    SurveyStore,
)
from connectors.surveys.tables import surveys_metadata

__all__ = [
    "SCORE_COUNT",
    "AgeGroup",
    "AlreadySurveyed",
    "Education",
    "IdempotencyConflict",
    "InvalidSurvey",
    "Occupation",
    "Refusal",
    "ScoreTotals",
    "SurveyError",
    "SurveyReceipt",
    "SurveyResponse",
    "SurveyStore",
    "SurveyStoreUnavailable",
    "surveys_metadata",
]
