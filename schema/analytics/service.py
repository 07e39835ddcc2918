"""`Environment.metrics`: the metrics view with its settings, as the hub hands it in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from connectors.metrics import MetricsView
from schema.analytics.period import DayRange

#: `satisfaction(service, period)`: the index of a service (None: all) as plain figures
#: (`respondents`, `index`, `grade`, `gradeLabel`, `elements`, and `refused`: the answers
#: refused in the period, when known), or None without answers.
SatisfactionLookup = Callable[[str | None, DayRange], Awaitable[dict[str, Any] | None]]

DEFAULT_MIN_GROUP_SIZE = 5


@dataclass(frozen=True, slots=True)
class MetricsService:
    view: MetricsView
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE  # small-count suppression in public reports
    satisfaction: SatisfactionLookup | None = None  # None: taken from `Environment.surveys`

    def __post_init__(self) -> None:
        if self.min_group_size < 1:
            raise ValueError("min_group_size must be at least 1")
