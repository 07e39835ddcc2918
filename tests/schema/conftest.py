from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from auth.principal import ANONYMOUS, Principal
from connectors.workdays import WorkCalendar
from schema.build import build_schema
from schema.context import Context, Environment
from schema.errors import format_error
from schema.region import load_region
from schema.sources import Sources
from world import World, build_world

REGION_FILE = Path(__file__).resolve().parents[2] / "hub" / "reference" / "regions.yaml"

Execute = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.fixture
def sources(world: World) -> Sources:
    return Sources(*world.sources())


@pytest.fixture(scope="session")
def calendar() -> WorkCalendar:
    return WorkCalendar()


@pytest.fixture
def env(sources: Sources, calendar: WorkCalendar) -> Environment:
    return Environment(
        sources=sources,
        region=load_region(REGION_FILE),
        calendar=calendar,
        max_page_size=100,
        default_page_size=20,
        trace_sources=True,
        today=lambda: date(2025, 9, 1),
    )


@pytest.fixture(scope="session")
def schema():  # type: ignore[no-untyped-def]
    return build_schema()


@pytest.fixture
def execute(env: Environment, schema) -> Execute:  # type: ignore[no-untyped-def]
    async def run(
        query: str, variables: dict[str, Any] | None = None, principal: Principal = ANONYMOUS
    ) -> dict[str, Any]:
        ctx = Context.create(env, principal, request_id="test")
        result = await schema.execute(query, variable_values=variables, context_value=ctx)
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [format_error(e, request_id="test") for e in result.errors]
        body["extensions"] = result.extensions or {}
        body["trace"] = ctx.trace
        return body

    return run
