"""submitSatisfactionSurvey and satisfactionIndex through the role schemas: in-memory
sources, a survey store on SQLite in a temp dir, role schemas from the default policy."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from tests.support.survey_world import (
    IN_PROGRESS,
    ISSUED_IUMK,
    ISSUED_PBG,
    IUMK,
    NOW,
    PBG,
    Execute,
    application,
)

from auth.policy import Policy, load_policy
from auth.principal import ANONYMOUS, Principal
from auth.purposes import load_purposes
from connectors.memory import (
    InMemoryComplaintSource,
    InMemoryLicensingSource,
    InMemoryPopulationSource,
)
from connectors.errors import SourceUnavailable
from connectors.records import ApplicationStatus
from connectors.resilience import Guard, GuardedLicensingSource, ResiliencePolicy
from connectors.surveys import SurveyStore, surveys_metadata
from connectors.workdays import WorkCalendar
from schema.access import AccessControl, catalogue_of
from schema.value_kinds import VALUE_KINDS
from schema.analytics.surveys import Surveys
from schema.build import RoleSchema, build_role_schema, build_schema
from schema.context import Context, Environment
from schema.errors import format_error
from schema.region import load_region
from schema.sources import Sources

REGION_FILE = Path(__file__).resolve().parents[3] / "hub" / "reference" / "regions.yaml"


@pytest.fixture
def sources() -> Sources:
    applications = [
        application(ISSUED_PBG, PBG, ApplicationStatus.ISSUED, "TERBIT"),
        application(ISSUED_IUMK, IUMK, ApplicationStatus.ISSUED, "TERBIT"),
        application(IN_PROGRESS, PBG, ApplicationStatus.FILE_CHECK, "PEMERIKSAAN_BERKAS"),
    ]
    return Sources(
        InMemoryPopulationSource([]),
        InMemoryLicensingSource(applications, permit_types=[PBG, IUMK]),
        InMemoryComplaintSource([]),
    )


@pytest.fixture
async def survey_store(tmp_path: Path) -> AsyncIterator[SurveyStore]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(surveys_metadata.create_all)
    yield SurveyStore(engine, clock=lambda: NOW)
    await engine.dispose()


@pytest.fixture(scope="session")
def full_schema() -> RoleSchema:
    return build_schema()


@pytest.fixture(scope="session")
def policy(full_schema: RoleSchema) -> Policy:
    return load_policy(catalogue=catalogue_of(full_schema._schema), kinds=VALUE_KINDS)


@pytest.fixture(scope="session")
def role_schemas(full_schema: RoleSchema, policy: Policy) -> Callable[[frozenset[str]], RoleSchema]:
    cache: dict[frozenset[str], RoleSchema] = {}

    def get(roles: frozenset[str]) -> RoleSchema:
        if roles not in cache:
            cache[roles] = build_role_schema(full_schema, policy, roles)
        return cache[roles]

    return get


@pytest.fixture
def env(sources: Sources, policy: Policy, survey_store: SurveyStore) -> Environment:
    return Environment(
        sources=sources,
        region=load_region(REGION_FILE),
        calendar=WorkCalendar(),
        access=AccessControl(policy, load_purposes()),
        trace_sources=True,
        surveys=Surveys(survey_store),
        today=lambda: date(2025, 9, 1),
    )


@pytest.fixture
def execute(env: Environment, role_schemas: Callable[[frozenset[str]], RoleSchema]) -> Execute:
    async def run(query: str, variables: dict[str, Any] | None = None,
                  principal: Principal = ANONYMOUS) -> dict[str, Any]:
        ctx = Context.create(env, principal, request_id="test")
        result = await role_schemas(principal.roles).execute(
            query, variable_values=variables, context_value=ctx
        )
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [format_error(e, request_id="test") for e in result.errors]
        return body

    return run


SUBMIT = """mutation($input: SatisfactionSurveyInput!) {
  submitSatisfactionSurvey(input: $input) { receiptNumber service submittedAt applicationNumber replayed }
}"""

INDEX = """query($service: String, $period: PeriodInput) {
  satisfactionIndex(service: $service, period: $period) {
    service serviceName period { from to } respondents index indexExact grade gradeLabel gradeLabelEn
    elements { code name nrr weightedNrr convertedValue grade label labelEn }
  }
}"""

AUGUST = {"from": "2025-08-01", "to": "2025-08-31"}
# DESIGN.md: auditors see the ledger only, operators source health; everyone else, and
# the public, reads the index
ROLES = ["population_officer", "kelurahan_officer", "licensing_officer", "complaint_officer",
         "analyst", "citizen", "anonymous"]


def survey(scores: list[int] | None = None, **fields: object) -> dict[str, object]:
    return {"service": "PBG", "scores": scores or [4, 3, 3, 4, 3, 3, 4, 3, 3], **fields}


def error_of(body: dict) -> dict:
    assert body.get("errors"), body
    return body["errors"][0]


async def test_an_anonymous_caller_answers_the_survey_and_gets_a_receipt(execute: Execute) -> None:
    body = await execute(SUBMIT, {"input": survey(ageGroup="FROM_30_TO_39", sex="FEMALE",
                                                 education="BACHELOR", occupation="ENTREPRENEUR")})
    assert "errors" not in body, body
    receipt = body["data"]["submitSatisfactionSurvey"]
    assert receipt["receiptNumber"].startswith("SKM-")
    assert receipt["service"] == "PBG"
    assert receipt["submittedAt"].startswith("2025-08-20T03:00:00")
    assert receipt["replayed"] is False


async def test_the_index_of_two_answers_matches_the_hand_computation(execute: Execute) -> None:
    await execute(SUBMIT, {"input": survey([4, 3, 3, 4, 3, 3, 4, 3, 3])})
    await execute(SUBMIT, {"input": survey([3, 3, 4, 3, 3, 4, 3, 3, 4])})
    await execute(SUBMIT, {"input": survey([1] * 9, service="IUMK")})
    body = await execute(INDEX, {"service": "PBG", "period": AUGUST})
    assert "errors" not in body, body
    index = body["data"]["satisfactionIndex"]
    assert index["service"] == "PBG"
    assert index["serviceName"] == "Persetujuan Bangunan Gedung"
    assert index["period"] == {"from": "2025-08-01", "to": "2025-08-31"}
    assert index["respondents"] == 2
    assert index["index"] == 83.33  # 60 / (9 x 2) x 25 = 83.333...
    assert index["indexExact"] == pytest.approx(250 / 3)
    assert (index["grade"], index["gradeLabel"], index["gradeLabelEn"]) == ("B", "Baik", "Good")
    u1, u2 = index["elements"][0], index["elements"][1]
    assert u1 == {"code": "U1", "name": "Persyaratan", "nrr": 3.5, "weightedNrr": pytest.approx(7 / 18),
                  "convertedValue": 87.5, "grade": "B", "label": "Baik", "labelEn": "Good"}
    assert (u2["nrr"], u2["grade"], u2["label"]) == (3.0, "C", "Kurang Baik")
    everything = (await execute(INDEX, {"period": AUGUST}))["data"]["satisfactionIndex"]
    assert everything["service"] is None and everything["respondents"] == 3


async def test_a_period_without_answers_has_no_index_but_names_the_elements(execute: Execute) -> None:
    body = await execute(INDEX, {"service": "PENGADUAN", "period": AUGUST})
    index = body["data"]["satisfactionIndex"]
    assert index["respondents"] == 0
    assert index["index"] is None and index["grade"] is None
    assert [e["code"] for e in index["elements"]] == [f"U{i}" for i in range(1, 10)]
    assert all(e["nrr"] is None for e in index["elements"])


async def test_the_default_period_is_the_last_365_days(execute: Execute) -> None:
    await execute(SUBMIT, {"input": survey()})
    index = (await execute(INDEX))["data"]["satisfactionIndex"]
    assert index["period"] == {"from": "2024-09-02", "to": "2025-09-01"}
    assert index["respondents"] == 1


@pytest.mark.parametrize(
    ("scores", "index", "element", "fragment"),
    [
        pytest.param([4] * 8, None, None, "exactly 9 scores", id="eight"),
        pytest.param([4] * 10, None, None, "exactly 9 scores", id="ten"),
        pytest.param([4, 4, 4, 5, 4, 4, 4, 4, 4], 3, "U4", "score 4 (Biaya/tarif)", id="five"),
        pytest.param([4, 4, 4, 4, 4, 4, 4, 4, 0], 8, "U9", "score 9", id="zero"),
        pytest.param([-1, 4, 4, 4, 4, 4, 4, 4, 4], 0, "U1", "score 1", id="negative"),
    ],
)
async def test_scores_other_than_nine_values_1_to_4_are_bad_user_input(
    execute: Execute, survey_store: SurveyStore, scores: list[int], index: int | None,
    element: str | None, fragment: str,
) -> None:
    body = await execute(SUBMIT, {"input": survey(scores)})
    error = error_of(body)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"].get("index") == index
    assert error["extensions"].get("element") == element
    assert fragment in error["message"]
    assert await survey_store.count() == 0


async def test_an_unknown_service_is_bad_user_input(execute: Execute) -> None:
    error = error_of(await execute(SUBMIT, {"input": survey(service="NOPE")}))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "unknown service" in error["message"]
    error = error_of(await execute(INDEX, {"service": "NOPE"}))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_complaint_handling_is_a_service_too(execute: Execute) -> None:
    body = await execute(SUBMIT, {"input": survey(service="PENGADUAN")})
    assert body["data"]["submitSatisfactionSurvey"]["service"] == "PENGADUAN"


async def test_a_malformed_demographic_code_is_refused(execute: Execute, survey_store: SurveyStore) -> None:
    body = await execute("""mutation { submitSatisfactionSurvey(input: {service: "PBG",
        scores: [4, 4, 4, 4, 4, 4, 4, 4, 4], ageGroup: SEVENTEEN}) { receiptNumber } }""")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert await survey_store.count() == 0


async def test_a_finished_application_takes_exactly_one_survey(execute: Execute) -> None:
    first = await execute(SUBMIT, {"input": survey(applicationNumber=ISSUED_PBG)})
    assert first["data"]["submitSatisfactionSurvey"]["applicationNumber"] == ISSUED_PBG
    error = error_of(await execute(SUBMIT, {"input": survey([2] * 9, applicationNumber=ISSUED_PBG)}))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["reason"] == "ALREADY_SURVEYED"
    assert "already has its satisfaction survey" in error["message"]


@pytest.mark.parametrize(
    ("number", "service", "fragment"),
    [
        pytest.param(IN_PROGRESS, "PBG", "not finished", id="in-progress"),
        pytest.param("503/DPMPTSP/2025/999999-ZZZZ", "PBG", "no application", id="unknown"),
        pytest.param(ISSUED_IUMK, "PBG", "is for IUMK", id="other-permit-type"),
    ],
)
async def test_a_linked_application_must_exist_be_finished_and_match_the_service(
    execute: Execute, survey_store: SurveyStore, number: str, service: str, fragment: str
) -> None:
    error = error_of(await execute(SUBMIT, {"input": survey(service=service, applicationNumber=number)}))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert fragment in error["message"]
    assert await survey_store.count() == 0


async def test_a_repeated_idempotency_key_replays_the_first_receipt(execute: Execute, survey_store: SurveyStore) -> None:
    first = (await execute(SUBMIT, {"input": survey(idempotencyKey="form-1")}))["data"]["submitSatisfactionSurvey"]
    again = (await execute(SUBMIT, {"input": survey(idempotencyKey="form-1")}))["data"]["submitSatisfactionSurvey"]
    assert again["receiptNumber"] == first["receiptNumber"] and again["replayed"] is True
    error = error_of(await execute(SUBMIT, {"input": survey([1] * 9, idempotencyKey="form-1")}))
    assert error["extensions"]["reason"] == "IDEMPOTENCY_CONFLICT"
    assert await survey_store.count() == 1


async def test_a_period_that_ends_before_it_starts_is_bad_user_input(execute: Execute) -> None:
    error = error_of(await execute(INDEX, {"period": {"from": "2025-09-01", "to": "2025-08-01"}}))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("role", ROLES)
async def test_every_role_reads_the_satisfaction_index(execute: Execute, role: str) -> None:
    principal = Principal(subject=f"s-{role}", roles=frozenset({role}), nik="1471080101800001",
                          kelurahan="1471081001")
    body = await execute(INDEX, {"period": AUGUST}, principal=principal)
    assert "errors" not in body, body
    assert body["data"]["satisfactionIndex"]["respondents"] == 0


def test_only_the_public_and_citizens_answer_the_survey(
    role_schemas: Callable[[frozenset[str]], RoleSchema],
) -> None:
    def can_submit(roles: frozenset[str]) -> bool:
        return "submitSatisfactionSurvey" in role_schemas(roles).as_str()

    assert can_submit(ANONYMOUS.roles)
    assert can_submit(frozenset({"citizen"}))
    assert not can_submit(frozenset({"analyst"}))
    assert not can_submit(frozenset({"operator"}))


class _Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


class _LicensingWithSwitch(InMemoryLicensingSource):
    down = False

    async def permit_types(self):  # type: ignore[no-untyped-def]
        if self.down:
            raise SourceUnavailable(self.source_id, "HTTP 503: layanan sedang tidak tersedia")
        return await super().permit_types()


async def test_permit_type_answers_keep_working_from_the_last_known_list_during_a_long_outage(
    env: Environment, survey_store: SurveyStore, role_schemas: Callable[[frozenset[str]], RoleSchema]
) -> None:
    """Issue 26: with licensing down for more than the caches' 5 minutes, survey answers
    for permit types failed; the last good list of permit types now serves them, stale."""
    clock = _Clock()
    licensing = _LicensingWithSwitch([], permit_types=[PBG, IUMK])
    guarded_licensing = Guard("licensing", ResiliencePolicy(timeout=0.5, retries=0), clock=clock)
    env = dataclasses.replace(
        env,
        sources=Sources(env.sources.population,
                        GuardedLicensingSource(licensing, ResiliencePolicy(), guard=guarded_licensing),
                        env.sources.complaints),
        surveys=Surveys(survey_store, monotonic=clock),
    )

    async def submit(service: str) -> dict[str, Any]:
        ctx = Context.create(env, ANONYMOUS, request_id="test")
        result = await role_schemas(ANONYMOUS.roles).execute(
            SUBMIT, variable_values={"input": survey(service=service)}, context_value=ctx)
        assert not result.errors, result.errors
        return {"data": result.data, "stale": ctx.trace.stale()}

    assert (await submit("PBG"))["stale"] == []
    licensing.down = True
    clock.now += 6 * 3600  # six hours: past every TTL
    answer = await submit("IUMK")
    assert answer["data"]["submitSatisfactionSurvey"]["service"] == "IUMK"
    assert answer["stale"], "the permit types came from the last known copy and say so"
    assert (await submit("PENGADUAN"))["data"]["submitSatisfactionSurvey"]["service"] == "PENGADUAN"
