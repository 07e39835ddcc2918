"""Resilience around the sources: per-call timeouts, retries with backoff for reads,
a circuit breaker per source, idempotent write retries and a cache of recent answers
served (marked stale) when a source fails.

    guarded(source, ResiliencePolicy(timeout=2, retries=2, circuit_threshold=5))

The guarded source implements the same protocol; `health()` tells its state, and
`observe_stale()` around a call tells whether the answer was stale.
"""

from __future__ import annotations

from connectors.resilience._breaker import CircuitBreaker, CircuitState
from connectors.resilience._cache import RecentAnswers, bulk_reads
from connectors.resilience._guard import Guard, SourceHealth
from connectors.resilience._policy import ResiliencePolicy
from connectors.resilience._sources import (
    GuardedComplaintSource,
    GuardedLicensingSource,
    GuardedPopulationSource,
    guarded,
)
from connectors.resilience._stale import StaleObservation, note_stale, observe_stale

__all__ = [
    "CircuitBreaker",
    "CircuitState",
    "Guard",
    "GuardedComplaintSource",
    "GuardedLicensingSource",
    "GuardedPopulationSource",
    "RecentAnswers",
    "ResiliencePolicy",
    "SourceHealth",
    "StaleObservation",
    "bulk_reads",
    "guarded",
    "note_stale",
    "observe_stale",
]
