"""Fixtures for the analytics root fields: in-memory sources, a survey store on SQLite
in a temp dir, and role schemas built from the default policy."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from auth.policy import Policy, load_policy
from auth.principal import ANONYMOUS, Principal
from auth.purposes import load_purposes
from connectors.memory import InMemoryComplaintSource, InMemoryLicensingSource, InMemoryPopulationSource
from connectors.records import ApplicationStatus
from connectors.surveys import SurveyStore, surveys_metadata
from connectors.workdays import WorkCalendar
from schema.access import AccessControl, catalogue_of
from schema.analytics.surveys import Surveys
from schema.build import RoleSchema, build_role_schema, build_schema
from schema.context import Context, Environment
from schema.errors import format_error
from schema.region import load_region
from schema.sources import Sources
from survey_world import IN_PROGRESS, ISSUED_IUMK, ISSUED_PBG, IUMK, NOW, PBG, Execute, application

REGION_FILE = Path(__file__).resolve().parents[2] / "hub" / "reference" / "regions.yaml"


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
    return load_policy(catalogue=catalogue_of(full_schema._schema))


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
