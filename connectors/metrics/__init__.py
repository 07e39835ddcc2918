"""Service metrics: case facts materialised in the hub's store from the sources'
change feeds, and the SQL that aggregates them (issue 6).

Public names are re-exported here; the other modules are internals.
"""

from __future__ import annotations

from connectors.metrics.facts import (
    FOLLOW_UP_DAYS,
    VERIFICATION_DAYS,
    application_fact,
    complaint_fact,
)
from connectors.metrics.model import (
    ApplicationMetrics,
    ApplicationSummary,
    ComplaintMetrics,
    ComplaintSummary,
    Freshness,
    MetricsFilter,
    RefreshResult,
    ServiceMetrics,
    StatusCount,
)
from connectors.metrics.tables import (
    application_facts,
    complaint_facts,
    metrics_metadata,
    refresh_state,
)
from connectors.metrics.view import MetricsView

__all__ = [
    "FOLLOW_UP_DAYS",
    "VERIFICATION_DAYS",
    "ApplicationMetrics",
    "ApplicationSummary",
    "ComplaintMetrics",
    "ComplaintSummary",
    "Freshness",
    "MetricsFilter",
    "MetricsView",
    "RefreshResult",
    "ServiceMetrics",
    "StatusCount",
    "application_fact",
    "application_facts",
    "complaint_fact",
    "complaint_facts",
    "metrics_metadata",
    "refresh_state",
]
