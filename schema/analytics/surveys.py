"""The satisfaction survey as the schema sees it: the store, the services a survey may
be about, and the index for a service and period (`satisfaction_summary`, which the
performance report calls too).

A survey is about a permit type (its code, from the licensing source) or one of the
configured other services (by default complaint handling, `PENGADUAN`)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date

from connectors.records import PermitType
from connectors.surveys import SurveyStore
from schema.analytics.ikm import IkmResult, compute_ikm

DEFAULT_OTHER_SERVICES: Mapping[str, str] = {"PENGADUAN": "Penanganan pengaduan masyarakat"}
PERMIT_TYPES_TTL_SECONDS = 300.0

FetchPermitTypes = Callable[[], Awaitable[list[PermitType]]]


@dataclass(frozen=True, slots=True)
class SurveyService:
    code: str
    name: str


class Surveys:
    """`Environment.surveys`: the survey store with its catalogue of services."""

    def __init__(
        self,
        store: SurveyStore,
        *,
        other_services: Mapping[str, str] = DEFAULT_OTHER_SERVICES,
        permit_types_ttl: float = PERMIT_TYPES_TTL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self._others = tuple(SurveyService(code, name) for code, name in other_services.items())
        self._ttl = permit_types_ttl
        self._monotonic = monotonic
        self._permits: tuple[SurveyService, ...] | None = None
        self._fetched_at = 0.0

    async def services(self, fetch_permit_types: FetchPermitTypes) -> list[SurveyService]:
        """Permit types (fetched through the caller, cached a few minutes), then the others."""
        if self._permits is None or self._monotonic() - self._fetched_at > self._ttl:
            permits = await fetch_permit_types()
            self._permits = tuple(SurveyService(p.code, p.name) for p in permits)
            self._fetched_at = self._monotonic()
        return [*self._permits, *self._others]

    def other_services(self) -> list[SurveyService]:
        """The configured services that are not permit types (no source call)."""
        return list(self._others)

    async def service(self, code: str, fetch_permit_types: FetchPermitTypes) -> SurveyService | None:
        for known in self._others:
            if known.code == code:
                return known
        return next((s for s in await self.services(fetch_permit_types) if s.code == code), None)


async def satisfaction_summary(
    surveys: Surveys | None, *, service: str | None, period_from: date, period_to: date
) -> IkmResult | None:
    """The index of one service (None: all services) over local days `period_from` to
    `period_to` inclusive; None when there is no survey store or no respondent.
    One aggregate query; `IkmResult.as_dict()` gives plain figures."""
    if surveys is None:
        return None
    totals = await surveys.store.totals(service=service, first_day=period_from, last_day=period_to)
    return compute_ikm(totals.totals, totals.respondents)


async def satisfaction_by_service(
    surveys: Surveys | None, *, period_from: date, period_to: date
) -> dict[str, IkmResult]:
    """The index per service with respondents in the period (one GROUP BY query)."""
    if surveys is None:
        return {}
    grouped = await surveys.store.totals_by_service(first_day=period_from, last_day=period_to)
    results = {code: compute_ikm(t.totals, t.respondents) for code, t in grouped.items()}
    return {code: result for code, result in results.items() if result is not None}
