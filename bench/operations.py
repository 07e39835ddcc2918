"""The operation mix: each operation's GraphQL request, the same fetches made straight
against the sources (`--direct`), and its nesting depth per source (the most source
calls a batched request may make).

Keys are picked from the samples once per request (`pick`), so the hub and the direct
run of an operation fetch the same kinds of records.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from bench.direct import DirectSources
from bench.samples import Samples, Tokens
from connectors.metrics import MetricsFilter
from connectors.records import ApplicationFilter, CitizenFilter, PageRequest


@dataclass(frozen=True, slots=True)
class Pick:
    variables: dict[str, Any]
    headers: dict[str, str]
    key: Any  # what the direct fetch needs


def _bearer(token: str, purpose: str | None = None, case: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if purpose:
        headers["X-Access-Purpose"] = purpose
    if case:
        headers["X-Access-Case"] = case
    return headers


Picker = Callable[[Samples, Tokens, random.Random], Pick]
#: The same source calls the hub makes for the operation; returns the records fetched.
DirectFetch = Callable[[DirectSources, Any], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    title: str
    weight: int
    depth: dict[str, int]  # source id -> nesting depth (expected calls per request)
    query: str
    pick: Picker
    direct: DirectFetch
    root_field: str = ""  # the schema field the operation needs (empty: always there)
    # a persisted variant: the run pushes `query` for this role (hub operations push)
    # and the requests send its id (`documentId`) instead of the text
    persisted_role: str | None = None

    @property
    def document_id(self) -> str:
        """The id of the pushed document: its SHA-256, as Apollo's manifests name them."""
        return hashlib.sha256(self.query.encode()).hexdigest()

    def request_body(self, variables: dict[str, Any]) -> dict[str, Any]:
        if self.persisted_role is not None:
            return {"documentId": self.document_id, "variables": variables}
        return {"query": self.query, "variables": variables}


#: the client the persisted variants are pushed for (sent as `X-Client-Name`: a
#: citizen's token names no client)
BENCH_CLIENT = "simpul-bench"


def _pick_citizen(samples: Samples, tokens: Tokens, rng: random.Random) -> Pick:
    nik = rng.choice(samples.citizen_niks)
    return Pick({"nik": nik}, _bearer(tokens.of("citizen", nik=nik), "self-service"), nik)


async def _direct_citizen(sources: DirectSources, key: Any) -> int:
    found = await sources.population.citizens_by_nik([key])
    if key not in found:
        return 0
    applications, complaints = await asyncio.gather(
        sources.licensing.applications_by_applicant([key]),
        sources.complaints.complaints_by_reporter([key]),
    )
    return 1 + sum(map(len, applications.values())) + sum(map(len, complaints.values()))


def _pick_citizen_persisted(samples: Samples, tokens: Tokens, rng: random.Random) -> Pick:
    pick = _pick_citizen(samples, tokens, rng)
    return Pick(pick.variables, {**pick.headers, "X-Client-Name": BENCH_CLIENT}, pick.key)


def _pick_kelurahan_page(samples: Samples, tokens: Tokens, rng: random.Random) -> Pick:
    code = rng.choice(samples.kelurahan_codes)
    cursor = rng.choice(samples.kelurahan_cursors[code])
    headers = _bearer(tokens.of("kelurahan_officer", kelurahan=code), "population-service")
    after = tokens.cursor("citizens", CitizenFilter(kelurahan_codes=(code,)), cursor, "kelurahan_officer")
    return Pick({"after": after}, headers, (code, cursor))


async def _direct_kelurahan_page(sources: DirectSources, key: Any) -> int:
    code, cursor = key
    page = await sources.population.list_citizens(
        CitizenFilter(kelurahan_codes=(code,)), PageRequest(first=50, after=cursor)
    )
    niks = [c.nik for c in page.items]
    families, applications, complaints = await asyncio.gather(
        sources.population.families_by_number(sorted({c.family_number for c in page.items})),
        sources.licensing.applications_by_applicant(niks),
        sources.complaints.complaints_by_reporter(niks),
    )
    return len(niks) + sum(len(v) for d in (families, applications, complaints) for v in d.values())


def _pick_applications(samples: Samples, tokens: Tokens, rng: random.Random) -> Pick:
    # a population officer's: a licensing officer reads applicants only under one
    # application's case (X-Access-Case), never a page of them
    cursor = rng.choice(samples.application_cursors)
    headers = _bearer(tokens.of("population_officer"), "population-service")
    after = tokens.cursor("applications", ApplicationFilter(), cursor, "population_officer")
    return Pick({"after": after}, headers, cursor)


async def _direct_applications(sources: DirectSources, key: Any) -> int:
    page = await sources.licensing.list_applications(ApplicationFilter(), PageRequest(first=100, after=key))
    niks = sorted({a.applicant_nik for a in page.items if a.applicant_nik})
    applicants = await sources.population.citizens_by_nik(niks) if niks else {}
    return len(page.items) + len(applicants)


def _pick_tracking(samples: Samples, tokens: Tokens, rng: random.Random) -> Pick:
    number = rng.choice(samples.application_numbers)
    return Pick({"number": number}, {}, number)


async def _direct_tracking(sources: DirectSources, key: Any) -> int:
    return len(await sources.licensing.applications_by_number([key]))


def _pick_metrics(samples: Samples, tokens: Tokens, rng: random.Random) -> Pick:
    first, last = samples.period
    variables = {"from": first.isoformat(), "to": last.isoformat()}
    return Pick(variables, _bearer(tokens.of("analyst")), samples.period)


async def _direct_metrics(sources: DirectSources, key: Any) -> int:
    view = sources.metrics
    if view is None:
        return 0
    flt = MetricsFilter(received_from=key[0], received_to=key[1])
    await view.freshness()
    applications = await view.application_metrics(flt)
    complaints = await view.complaint_metrics(flt)
    return len(applications.by_permit_type) + len(complaints.by_category)


def _pick_listing(samples: Samples, tokens: Tokens, rng: random.Random) -> Pick:
    cursor = rng.choice(samples.citizen_cursors)
    headers = _bearer(tokens.of("population_officer"), "population-service")
    return Pick({"after": tokens.cursor("citizens", CitizenFilter(), cursor, "population_officer")}, headers, cursor)


async def _direct_listing(sources: DirectSources, key: Any) -> int:
    page = await sources.population.list_citizens(CitizenFilter(), PageRequest(first=1000, after=key))
    return len(page.items)


def _pick_me(samples: Samples, tokens: Tokens, rng: random.Random) -> Pick:
    return Pick({}, _bearer(tokens.of("population_officer")), None)


async def _direct_nothing(sources: DirectSources, key: Any) -> int:
    return 0


CITIZEN_QUERY = """query BenchCitizen($nik: String!) { citizen(nik: $nik) {
  nik fullName birthDate sex address rt rw kelurahan { code name }
  applications { number status permitType { code name } receivedAt dueDate overdue }
  complaints { number category status submittedAt } } }"""


def default_mix() -> list[Operation]:
    citizen = Operation(
        name="citizen_by_nik",
        pick=_pick_citizen,
        direct=_direct_citizen,
        title="citizen by NIK with applications and complaints (citizen, own NIK)",
        weight=4,
        depth={"population": 1, "licensing": 1, "complaints": 1},
        query=CITIZEN_QUERY,
    )
    return [
        citizen,
        replace(citizen, name="citizen_persisted", pick=_pick_citizen_persisted, weight=2,
                title="the same, as a pushed (persisted) operation sent by its id", persisted_role="citizen"),
        Operation(
            name="kelurahan_page",
            pick=_pick_kelurahan_page,
            direct=_direct_kelurahan_page,
            title="kelurahan officer: page of 50 citizens with family, applications, complaints",
            weight=2,
            depth={"population": 2, "licensing": 1, "complaints": 1},
            query="""query BenchKelurahanPage($after: String) { citizens(first: 50, after: $after) {
  edges { node { nik fullName age sex address rt rw
    family { number head { fullName } }
    applications { number status dueDate overdue }
    complaints { number category status } } }
  pageInfo { hasNextPage endCursor } } }""",
        ),
        Operation(
            name="applications_100",
            pick=_pick_applications,
            direct=_direct_applications,
            title="population officer: 100 applications with applicants",
            weight=2,
            depth={"licensing": 1, "population": 1},
            query="""query BenchApplications($after: String) { applications(first: 100, after: $after) {
  edges { node { number applicantKind applicantName companyName status
    permitType { code name } receivedAt dueDate overdue kelurahan { name }
    applicant { nik fullName kelurahan { name } } } }
  pageInfo { hasNextPage endCursor } } }""",
        ),
        Operation(
            name="track_application",
            pick=_pick_tracking,
            direct=_direct_tracking,
            title="public tracking of an application (anonymous)",
            weight=4,
            depth={"licensing": 1},
            query="""query BenchTrack($number: String!) { trackApplication(number: $number) {
  number status permitType { name serviceLevelDays } receivedAt dueDate overdue } }""",
        ),
        Operation(
            name="service_metrics",
            pick=_pick_metrics,
            direct=_direct_metrics,
            title="dashboard: service metrics of the last year (analyst)",
            weight=1,
            depth={},
            root_field="serviceMetrics",
            query="""query BenchMetrics($from: Date!, $to: Date!) { serviceMetrics(period: {from: $from, to: $to}) {
  asOf period { from to }
  applications { total finished onTime late onTimeShare backlog overdue medianWorkingDays p90WorkingDays
    byStatus { status count } byPermitType { code name total onTime late backlog overdue medianWorkingDays } }
  complaints { total finished backlog verifiedWithin3DaysShare followedUpWithin5DaysShare medianVerificationDays
    byStatus { status count } byCategory { category total finished backlog } } } }""",
        ),
        Operation(
            name="listing_1000",
            pick=_pick_listing,
            direct=_direct_listing,
            title="population officer: 1,000-row listing",
            weight=1,
            depth={"population": 1},
            query="""query BenchListing($after: String) { citizens(first: 1000, after: $after) {
  edges { node { nik familyNumber fullName birthPlace birthDate sex maritalStatus occupation address rt rw } }
  pageInfo { hasNextPage endCursor } } }""",
        ),
    ]


def named_only() -> list[Operation]:
    """Operations outside the mix, run only when named (`--operations me`). `me` costs
    the hub alone (token, GraphQL, no source, no store, no ledger): with it, adding a
    hub worker is measured without the sources sharing the cores."""
    return [
        Operation(
            name="me",
            pick=_pick_me,
            direct=_direct_nothing,
            title="hub only: the caller as the hub authenticated it (population officer)",
            weight=1,
            depth={},
            root_field="me",
            query="query BenchMe { me { subject roles department kelurahan scopes anonymous } }",
        ),
    ]
