"""Property-based fuzzing of /graphql: queries generated from each role's schema by
hypothesis-graphql, valid ones and ones with a schema violation (Mode.NEGATIVE), sent
through the real HTTP app. None may answer 5xx or carry an INTERNAL error."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, nodes, queries
from starlette.testclient import TestClient

from tests.support.hardening import Headers, guarded_sources
from tests.support.sample_world import World
from hub.app import create_app
from hub.schemas import load_access, role_sdl
from hub.settings import Settings

EXAMPLES = 100  # per role and mode
PURPOSES = {"population_officer": "population-service", "analyst": "statistics"}
SCALARS = {
    "Date": st.one_of(st.dates().map(nodes.String), st.text(max_size=12).map(nodes.String)),
    "DateTime": st.one_of(st.datetimes().map(lambda d: nodes.String(d.isoformat())),
                          st.text(max_size=12).map(nodes.String)),
}


@pytest.mark.parametrize("mode", [Mode.POSITIVE, Mode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize("role", ["anonymous", "population_officer"])
def test_fuzzed_queries_never_get_a_server_error(
    settings: Settings, world: World, token: Callable[..., Headers], role: str, mode: Mode
) -> None:
    policy, _ = load_access(settings)
    sdl = role_sdl(policy, role)
    headers = {} if role == "anonymous" else {**token(role), "X-Access-Purpose": PURPOSES[role]}
    seen: dict[int, int] = {}
    with TestClient(create_app(settings.model_copy(update={"rate_limits": settings.rate_limits.model_copy(
            update={"enabled": False})}), sources=guarded_sources(world))) as client:

        @settings_for_fuzz
        @given(query=queries(sdl, mode=mode, custom_scalars=SCALARS))
        def check(query: str) -> None:
            response = client.post("/graphql", json={"query": query}, headers=headers)
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            assert response.status_code < 500, (query, response.text)
            body = response.json()
            codes = [e.get("extensions", {}).get("code") for e in body.get("errors", ())]
            assert "INTERNAL" not in codes, (query, body)
            assert all(codes), body

        check()
        assert client.get("/healthz").status_code == 200
    assert sum(seen.values()) >= EXAMPLES // 2


settings_for_fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
