"""A down source through the GraphQL endpoint: only its paths are null, recent answers are
served marked stale, and the sources field and readiness show the open circuit."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from starlette.testclient import TestClient

from connectors.errors import SourceUnavailable
from connectors.memory import InMemoryLicensingSource
from connectors.records import ApplicationRecord
from connectors.resilience import GuardedLicensingSource, ResiliencePolicy
from hub.app import create_app
from hub.settings import Settings
from schema.sources import Sources
from tests.support.hardening import Headers
from tests.support.sample_world import IUMK, PBG, World


def policy(**overrides: Any) -> ResiliencePolicy:
    values: dict[str, Any] = {"timeout": 0.2, "retries": 2, "backoff": 0.0, "write_backoff": 0.0,
                              "circuit_threshold": 3, "circuit_cooldown": 5.0}
    values.update(overrides)
    return ResiliencePolicy(**values)


class SwitchableLicensing(InMemoryLicensingSource):
    """The in-memory licensing source with an off switch."""

    down = False

    async def applications_by_applicant(self, niks: Sequence[str]) -> dict[str, list[ApplicationRecord]]:
        if self.down:
            raise SourceUnavailable(self.source_id, "HTTP 503: layanan sedang tidak tersedia")
        return await super().applications_by_applicant(niks)

    async def check(self) -> None:
        if self.down:
            raise SourceUnavailable(self.source_id, "HTTP 503: layanan sedang tidak tersedia")


@pytest.fixture
def licensing(world: World) -> SwitchableLicensing:
    return SwitchableLicensing(world.applications, permit_types=[PBG, IUMK])


@pytest.fixture
def degraded(settings: Settings, world: World, licensing: SwitchableLicensing) -> Iterator[TestClient]:
    population, _, complaints = world.sources()
    rules = policy(retries=0, circuit_threshold=3, circuit_cooldown=60)
    sources = Sources(
        population,
        GuardedLicensingSource(licensing, rules),
        complaints,
    )
    with TestClient(create_app(settings, sources=sources)) as client:
        yield client


CITIZEN = "query($nik: String!) { citizen(nik: $nik) { fullName applications { number } } }"
HEADERS = {"X-Access-Purpose": "population-service"}


def ask(client: TestClient, token: Callable[..., Headers], nik: str) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": CITIZEN, "variables": {"nik": nik}},
                           headers={**token("population_officer"), **HEADERS})
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def test_a_down_source_nulls_only_its_paths(
    degraded: TestClient, licensing: SwitchableLicensing, world: World, token: Callable[..., Headers]
) -> None:
    licensing.down = True
    answer = ask(degraded, token, world.citizens[0].nik)
    assert answer["data"]["citizen"] == {"fullName": world.citizens[0].full_name, "applications": None}
    error = answer["errors"][0]
    assert error["path"] == ["citizen", "applications"]
    assert error["extensions"]["code"] == "SOURCE_UNAVAILABLE"
    assert error["extensions"]["source"] == "licensing"


def test_a_down_source_is_answered_from_recent_answers_marked_stale(
    degraded: TestClient, licensing: SwitchableLicensing, world: World, token: Callable[..., Headers]
) -> None:
    nik = world.citizens[0].nik
    fresh = ask(degraded, token, nik)
    assert "stale" not in fresh.get("extensions", {})
    licensing.down = True
    stale = ask(degraded, token, nik)
    assert stale["data"] == fresh["data"]
    assert stale["extensions"]["stale"] == [{"source": "licensing", "operation": "applications_by_applicant"}]


def test_the_sources_field_shows_the_open_circuit_and_the_last_error(
    degraded: TestClient, licensing: SwitchableLicensing, world: World, token: Callable[..., Headers]
) -> None:
    licensing.down = True
    for citizen in world.citizens[:3]:
        ask(degraded, token, citizen.nik)
    query = "{ sources { source state up lastError lastSuccessAt consecutiveFailures } }"
    states = degraded.post("/graphql", json={"query": query}, headers=token("operator")).json()["data"]["sources"]
    by_source = {s["source"]: s for s in states}
    assert by_source["licensing"]["state"] == "CIRCUIT_OPEN"
    assert by_source["licensing"]["up"] is False
    assert "503" in by_source["licensing"]["lastError"]
    assert by_source["licensing"]["consecutiveFailures"] == 3
    ready = degraded.get("/readyz")
    assert ready.status_code == 503
    assert {s["source"]: s["state"] for s in ready.json()["sources"]}["licensing"] == "CIRCUIT_OPEN"
