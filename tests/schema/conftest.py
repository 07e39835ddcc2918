from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from auth.policy import Policy, load_policy
from auth.principal import Principal
from auth.purposes import load_purposes
from connectors.workdays import WorkCalendar
from schema.access import AccessControl, catalogue_of
from schema.build import RoleSchema, build_role_schema, build_schema
from schema.context import Context, Environment
from schema.errors import format_error
from schema.region import load_region
from schema.sources import Sources
from schema.value_kinds import value_kinds
from tests.schema.harness import POPULATION_OFFICER, Execute, MemoryLedger
from tests.support.sample_world import World, build_world

REGION_FILE = Path(__file__).resolve().parents[2] / "hub" / "reference" / "regions.yaml"

@pytest.fixture
def world() -> World:
    return build_world()


@pytest.fixture
def sources(world: World) -> Sources:
    return Sources(*world.sources())


@pytest.fixture(scope="session")
def calendar() -> WorkCalendar:
    return WorkCalendar()


@pytest.fixture(scope="session")
def full_schema() -> RoleSchema:
    return build_schema()


@pytest.fixture(scope="session")
def policy(full_schema: RoleSchema) -> Policy:
    catalogue = catalogue_of(full_schema._schema)
    return load_policy(catalogue=catalogue, kinds=value_kinds(catalogue))


@pytest.fixture(scope="session")
def role_schemas(full_schema: RoleSchema, policy: Policy) -> Callable[[frozenset[str]], RoleSchema]:
    cache: dict[frozenset[str], RoleSchema] = {}

    def get(roles: frozenset[str]) -> RoleSchema:
        if roles not in cache:
            cache[roles] = build_role_schema(full_schema, policy, roles)
        return cache[roles]

    return get


@pytest.fixture
def ledger() -> MemoryLedger:
    return MemoryLedger()


@pytest.fixture
def env(sources: Sources, calendar: WorkCalendar, policy: Policy, ledger: MemoryLedger) -> Environment:
    return Environment(
        sources=sources,
        region=load_region(REGION_FILE),
        calendar=calendar,
        access=AccessControl(policy, load_purposes()),
        ledger=ledger,
        max_page_size=100,
        default_page_size=20,
        trace_sources=True,
        today=lambda: date(2025, 9, 1),
    )


@pytest.fixture
def execute(env: Environment, role_schemas: Callable[[frozenset[str]], RoleSchema]) -> Execute:
    async def run(
        query: str,
        variables: dict[str, Any] | None = None,
        principal: Principal = POPULATION_OFFICER,
        purpose: str | None = "population-service",
        case: str | None = None,
    ) -> dict[str, Any]:
        ctx = Context.create(env, principal, request_id="test", purpose=purpose, case=case)
        schema = role_schemas(principal.roles)
        result = await schema.execute(query, variable_values=variables, context_value=ctx)
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [format_error(e, request_id="test") for e in result.errors]
        body["extensions"] = result.extensions or {}
        body["trace"] = ctx.trace
        return body

    return run

