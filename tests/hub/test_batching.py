"""Batching, as users run the operations: over the sample systems (separate programs), a
request makes exactly one call per source per nesting level, as `extensions.sources`
reports it (the same operations `hub bench` drives, at the shipped page size of 100)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

Token = Callable[..., dict[str, str]]


@dataclass(frozen=True)
class Operation:
    query: str
    depth: dict[str, int]  # source id -> nesting levels that reach it: the calls expected
    caller: Callable[[Token, dict[str, str]], dict[str, str]]  # headers, given sample keys
    variables: Callable[[dict[str, str]], dict[str, Any]] = lambda keys: {}


OPERATIONS = {
    "citizen_by_nik": Operation(
        query="""query($nik: String!) { citizen(nik: $nik) {
          nik fullName birthDate sex address rt rw kelurahan { code name }
          applications { number status permitType { code name } receivedAt dueDate overdue }
          complaints { number category status submittedAt } } }""",
        depth={"population": 1, "licensing": 1, "complaints": 1},
        caller=lambda token, keys: {**token("citizen", nik=keys["nik"]), "X-Access-Purpose": "self-service"},
        variables=lambda keys: {"nik": keys["nik"]},
    ),
    "kelurahan_page": Operation(
        query="""{ citizens(first: 50) { edges { node { nik fullName age sex address rt rw
          family { number head { fullName } }
          applications { number status dueDate overdue }
          complaints { number category status } } } pageInfo { hasNextPage endCursor } } }""",
        depth={"population": 2, "licensing": 1, "complaints": 1},
        caller=lambda token, keys: {
            **token("kelurahan_officer", kelurahan=keys["kelurahan"]), "X-Access-Purpose": "population-service",
        },
    ),
    "applications_with_applicants": Operation(
        query="""{ applications(first: 100) { edges { node { number applicantKind applicantName
          status permitType { code name } receivedAt dueDate overdue kelurahan { name }
          applicant { nik fullName kelurahan { name } } } } pageInfo { hasNextPage endCursor } } }""",
        depth={"licensing": 1, "population": 1},
        caller=lambda token, keys: {
            **token("population_officer"), "X-Access-Purpose": "population-service",
        },
    ),
    "track_application": Operation(
        query="""query($number: String!) { trackApplication(number: $number) {
          number status permitType { name serviceLevelDays } receivedAt dueDate overdue } }""",
        depth={"licensing": 1},
        caller=lambda token, keys: {},
        variables=lambda keys: {"number": keys["number"]},
    ),
    "citizen_listing": Operation(
        query="""{ citizens(first: 100) { edges { node { nik familyNumber fullName birthPlace birthDate
          sex maritalStatus occupation address rt rw } } pageInfo { hasNextPage endCursor } } }""",
        depth={"population": 1},
        caller=lambda token, keys: {**token("population_officer"), "X-Access-Purpose": "population-service"},
    ),
}


def _post(client: TestClient, query: str, headers: dict[str, str], variables: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body


@pytest.fixture
def keys(client: TestClient, token: Token) -> dict[str, str]:
    """A resident who applied for a permit (so every level of the citizen's query has
    rows), their kelurahan, and that application's number."""
    headers = {**token("population_officer"), "X-Access-Purpose": "population-service"}
    body = _post(client, """{ citizens(first: 100) { edges { node { nik kelurahan { code }
        applications { number } } } } }""", headers, {})
    applicant = next(e["node"] for e in body["data"]["citizens"]["edges"] if e["node"]["applications"])
    return {"nik": applicant["nik"], "kelurahan": applicant["kelurahan"]["code"],
            "number": applicant["applications"][0]["number"]}


@pytest.mark.parametrize("name", OPERATIONS)
def test_each_source_is_called_once_per_nesting_level(
    name: str, client: TestClient, token: Token, keys: dict[str, str]
) -> None:
    operation = OPERATIONS[name]
    body = _post(client, operation.query, operation.caller(token, keys), operation.variables(keys))
    root = next(iter(body["data"].values()))
    assert root and (root.get("edges") or "edges" not in root), body["data"]  # the root level has rows
    calls: dict[str, int] = {}
    for trace in body["extensions"]["sources"]:
        calls[trace["source"]] = calls.get(trace["source"], 0) + trace["calls"]
    assert calls == operation.depth
