"""What a query may cost, how deep it may nest, and who may introspect, per role."""

from __future__ import annotations

import asyncio

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from graphql import parse
from starlette.testclient import TestClient

from auth.policy import Limits
from connectors.memory import InMemoryPopulationSource
from connectors.records import CitizenFilter, CitizenRecord, Page, PageRequest
from tests.support.hardening import Headers, memory_settings
from tests.support.sample_world import World
from hub.app import create_app
from hub.settings import Settings
from schema.build import build_schema
from schema.extensions.cost import query_cost
from schema.sources import Sources

PURPOSE = {"X-Access-Purpose": "population-service"}
NESTED = (
    "{ citizens(first: 100) { edges { node { family { members { family { members "
    "{ applications { number } } } } } } } } }"
)


class CountingPopulation(InMemoryPopulationSource):
    def __init__(self, records: Sequence[CitizenRecord]) -> None:
        super().__init__(records)
        self.hits = 0

    async def list_citizens(self, flt: CitizenFilter, page: PageRequest) -> Page[CitizenRecord]:
        self.hits += 1
        return await super().list_citizens(flt, page)

    async def citizens_by_nik(self, niks: Sequence[str]) -> dict[str, CitizenRecord]:
        self.hits += 1
        return await super().citizens_by_nik(niks)

    async def families_by_number(self, numbers: Sequence[str]) -> dict[str, list[CitizenRecord]]:
        self.hits += 1
        return await super().families_by_number(numbers)


@pytest.fixture
def population(world: World) -> CountingPopulation:
    return CountingPopulation(world.citizens)


@pytest.fixture
def counted(settings: Settings, world: World, population: CountingPopulation) -> Iterator[TestClient]:
    _, licensing, complaints = world.sources()
    with TestClient(create_app(settings, sources=Sources(population, licensing, complaints))) as test_client:
        yield test_client


def cost(query: str, **variables: object) -> int:
    return query_cost(build_schema()._schema, parse(query), variables=variables, default_page_size=20)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("{ me { subject } }", 1, id="one-object"),
        pytest.param("{ citizens { totalCount } }", 1, id="connection-of-scalars"),
        pytest.param("{ citizens { edges { node { fullName } } } }", 1 + 20 * 2, id="default-page-size"),
        pytest.param("{ citizens(first: 50) { edges { node { fullName } } } }", 1 + 50 * 2, id="first"),
        pytest.param("{ citizen(nik: \"x\") { applications { number } } }", 1 + 1, id="plain-list-of-scalars"),
        pytest.param("{ citizen(nik: \"x\") { applications { history { status } } } }", 1 + 1 + 10 * 1,
                     id="plain-list-estimate"),
        pytest.param("{ citizens(first: 10) { edges { node { applications { history { status } } } } } }",
                     1 + 10 * (1 + 1 + (1 + 10 * 1)), id="lists-multiply"),
        pytest.param("query($n: Int) { citizens(first: $n) { edges { node { fullName } } } }", 1 + 7 * 2,
                     id="first-from-a-variable"),
        pytest.param("fragment F on Citizen { fullName family { number } } "
                     "{ citizens(first: 5) { edges { node { ...F } } } }", 1 + 5 * (1 + 1 + 1), id="fragments"),
        pytest.param("{ __schema { types { name fields { name } } } }", 0, id="introspection-is-free"),
    ],
)
def test_cost_model(query: str, expected: int) -> None:
    assert cost(query, n=7) == expected


def test_a_costly_query_is_refused_before_any_source_is_called(
    counted: TestClient, population: CountingPopulation, token: Callable[..., Headers]
) -> None:
    response = counted.post("/graphql", json={"query": NESTED}, headers={**token("population_officer"), **PURPOSE})

    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["maximum"] == 5000
    assert error["extensions"]["cost"] == cost(NESTED)
    assert response.json()["data"] is None
    assert population.hits == 0


def test_the_same_shape_with_smaller_pages_is_allowed(
    counted: TestClient, population: CountingPopulation, token: Callable[..., Headers]
) -> None:
    small = NESTED.replace("first: 100", "first: 2")
    response = counted.post("/graphql", json={"query": small}, headers={**token("population_officer"), **PURPOSE})
    assert "errors" not in response.json(), response.text
    assert population.hits > 0


def test_cost_limits_come_from_the_roles_policy(tmp_path: Path, world: World,
                                               token: Callable[..., Headers]) -> None:
    policy = tmp_path / "policy.yaml"
    text = (Path(__file__).resolve().parents[3] / "auth" / "default_policy.yaml").read_text()
    policy.write_text(text.replace("limits: {max_query_cost: 5000, max_depth: 12", "limits: {max_query_cost: 30, max_depth: 12", 1))
    settings = memory_settings(tmp_path, policy_file=policy)
    with TestClient(create_app(settings, sources=Sources(*world.sources()))) as client:
        query = "{ citizens(first: 20) { edges { node { fullName } } } }"
        answer = client.post("/graphql", json={"query": query},
                             headers={**token("population_officer"), **PURPOSE}).json()
    assert answer["errors"][0]["extensions"] == {"code": "QUERY_TOO_COMPLEX", "cost": 41, "maximum": 30}


def test_depth_is_limited_per_role() -> None:
    shallow = build_schema(limits=Limits(max_depth=1))
    deep = build_schema(limits=Limits(max_depth=3))
    nested = '{ trackApplication(number: "x") { history { status } } }'

    result = asyncio.run(shallow.execute(nested))
    assert result.errors and "maximum operation depth of 1" in result.errors[0].message
    result = asyncio.run(deep.execute(nested))
    assert not any("depth" in e.message for e in result.errors or ())


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("anonymous", False), ("operator", True), ("population_officer", True), ("auditor", True)],
)
def test_introspection_follows_the_roles_policy(
    client: TestClient, token: Callable[..., Headers], role: str, allowed: bool
) -> None:
    headers = {} if role == "anonymous" else token(role)
    answer = client.post("/graphql", json={"query": "{ __schema { queryType { name } } }"}, headers=headers).json()
    if allowed:
        assert answer["data"] == {"__schema": {"queryType": {"name": "Query"}}}
    else:
        assert "introspection has been disabled" in answer["errors"][0]["message"]


def test_typename_stays_available_without_introspection(client: TestClient) -> None:
    assert client.post("/graphql", json={"query": "{ __typename }"}).json() == {"data": {"__typename": "Query"}}


def test_nested_fragments_are_measured_in_linear_time(client: TestClient, token: Callable[..., Headers]) -> None:
    fragments = "".join(f"fragment F{i} on Principal {{ a{i}: subject ...F{i + 1} ...F{i + 1} }} " for i in range(25))
    query = fragments + "fragment F25 on Principal { subject } { me { ...F0 } }"  # 27 definitions: an officer's
    answer = client.post("/graphql", json={"query": query}, headers=token("population_officer")).json()
    assert "aliases found" in answer["errors"][0]["message"]
