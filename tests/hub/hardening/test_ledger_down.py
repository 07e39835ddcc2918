"""The ledger refuses a write: the HTTP answer carries no personal data, whether the
entries were started early (one root field) or at the end, and nothing half-written
stays behind; the hub answers again as soon as the ledger does."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from starlette.testclient import TestClient

from tests.support.hardening import Headers
from tests.support.ledger_entries import refuse_ledger_writes
from hub.settings import Settings

EARLY = "{ citizens(first: 20) { edges { node { nik fullName } } } }"  # one root field, one personal type
LATE = "query($nik: String!) { citizen(nik: $nik) { nik family { members { nik fullName } } } }"


@pytest.fixture
def refusing_ledger(settings: Settings, client: TestClient) -> Iterator[Callable[[bool], None]]:
    yield lambda on: refuse_ledger_writes(settings, on)


@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
@pytest.mark.parametrize("query", [EARLY, LATE], ids=["early-batch", "end-batch"])
def test_no_data_leaves_when_the_ledger_refuses(
    client: TestClient, token: Callable[..., Headers], refusing_ledger: Callable[[bool], None],
    world, query: str, accept: str,  # type: ignore[no-untyped-def]
) -> None:
    headers = {**token("population_officer"), "X-Access-Purpose": "population-service", "Accept": accept}
    variables = {"nik": world.citizens[0].nik}
    refusing_ledger(True)

    refused = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)

    body = refused.json()
    assert body.get("data") is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["LEDGER_UNAVAILABLE"]
    assert world.citizens[0].nik not in refused.text and world.citizens[0].full_name not in refused.text

    refusing_ledger(False)
    answered = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert answered.status_code == 200 and "errors" not in answered.json(), answered.text
