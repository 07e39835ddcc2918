"""What the view answers: a filter in, plain dataclasses out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class MetricsFilter:
    """Cases received (applications) or submitted (complaints) within the period.

    `permit_types` narrows applications only, `categories` complaints only; a filter
    left as None does not restrict.
    """

    received_from: date | None = None
    received_to: date | None = None  # inclusive
    kelurahan_codes: tuple[str, ...] | None = None
    permit_types: tuple[str, ...] | None = None
    categories: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class StatusCount:
    status: str
    count: int


@dataclass(frozen=True, slots=True)
class ApplicationSummary:
    """Applications of one group (all of them, a permit type, a kelurahan)."""

    key: str | None  # the group's code; None for the whole selection
    name: str | None
    total: int
    finished: int
    timed: int  # finished with a complete file: the ones a service level applies to
    on_time: int
    backlog: int  # still open
    overdue: int  # open and past the due date
    median_working_days: float | None  # over finished, timed applications
    p90_working_days: float | None
    service_level_days: int | None = None  # for a permit-type group

    @property
    def late(self) -> int:
        return self.timed - self.on_time

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.timed if self.timed else None


@dataclass(frozen=True, slots=True)
class ComplaintSummary:
    key: str | None
    total: int
    finished: int
    backlog: int
    verification_due: int  # complaints whose verification deadline is met or missed
    verified_in_time: int
    follow_up_due: int
    followed_up_in_time: int
    median_verification_days: float | None  # over verified complaints

    @property
    def verification_share(self) -> float | None:
        return self.verified_in_time / self.verification_due if self.verification_due else None

    @property
    def follow_up_share(self) -> float | None:
        return self.followed_up_in_time / self.follow_up_due if self.follow_up_due else None


@dataclass(frozen=True, slots=True)
class ApplicationMetrics:
    summary: ApplicationSummary
    by_status: list[StatusCount]
    by_permit_type: list[ApplicationSummary]
    by_kelurahan: list[ApplicationSummary] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ComplaintMetrics:
    summary: ComplaintSummary
    by_status: list[StatusCount]
    by_category: list[ComplaintSummary]
    by_kelurahan: list[ComplaintSummary] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Freshness:
    """When each source's facts were last brought up to date (UTC)."""

    refreshed_at: dict[str, datetime]
    expected: frozenset[str] = frozenset({"licensing", "complaints"})

    @property
    def as_of(self) -> datetime | None:
        """The oldest of the sources' refresh times: every figure is at least this fresh.
        None until every source the view covers has been filled once (partial figures
        must not claim a freshness)."""
        if not self.expected <= self.refreshed_at.keys():
            return None
        return min(self.refreshed_at.values())


@dataclass(frozen=True, slots=True)
class ServiceMetrics:
    as_of: datetime | None
    applications: ApplicationMetrics
    complaints: ComplaintMetrics


@dataclass(frozen=True, slots=True)
class RefreshResult:
    source_id: str
    backfilled: bool
    changes: int  # change-feed entries read
    written: int  # facts upserted
    aged: int  # open cases whose time-dependent facts were recomputed
