"""GraphQL over HTTP: the specification's rules for the `/graphql` endpoint, one row each.

Legacy clients (`application/json`, or no Accept header) get 200 for every well-formed
request; clients accepting `application/graphql-response+json` get 4xx with no `data`
entry when the request failed before execution."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.hardening import Headers

GQL = "application/graphql-response+json"
JSON = "application/json"
ME = "{ me { subject } }"


@dataclass(frozen=True)
class Rule:
    status: int
    media: str  # the response's media type
    has_data: bool | None  # None: no GraphQL response body expected (HTTP-level refusal)
    method: str = "POST"
    body: Any = None
    params: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    check: Callable[[dict[str, Any]], bool] = lambda body: True


RULES = [
    pytest.param(Rule(200, GQL, True, body={"query": ME}, headers={"accept": GQL}),
                 id="accepts-graphql-response-json"),
    pytest.param(Rule(200, JSON, True, body={"query": ME}, headers={"accept": JSON}), id="accepts-json"),
    pytest.param(Rule(200, JSON, True, body={"query": ME}, headers={"accept": ""}), id="no-accept-means-json"),
    pytest.param(Rule(200, JSON, True, body={"query": ME}, headers={"accept": "*/*"}), id="wildcard-means-json"),
    pytest.param(Rule(200, GQL, True, body={"query": ME}, headers={"accept": f"{JSON};q=0.5, {GQL}"}),
                 id="preferred-graphql-response-json"),
    pytest.param(Rule(200, JSON, True, body={"query": ME}, headers={"accept": f"{GQL};q=0.2, {JSON}"}),
                 id="preferred-json"),
    pytest.param(Rule(200, GQL, True, body={"query": ME}, headers={"accept": GQL,
                 "content-type": "application/json; charset=utf-8"}), id="utf8-charset-parameter"),
    pytest.param(Rule(400, GQL, False, body={"query": "{ me {"}, headers={"accept": GQL},
                      check=lambda b: b["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"),
                 id="parse-error-is-400-without-data"),
    pytest.param(Rule(400, GQL, False, body={"query": "{ nope }"}, headers={"accept": GQL}),
                 id="validation-error-is-400-without-data"),
    pytest.param(Rule(400, GQL, False, body={"query": "query($n: String!) { trackComplaint(number: $n) { number } }",
                      "variables": {"n": 3}}, headers={"accept": GQL}), id="variable-coercion-error-is-400"),
    pytest.param(Rule(200, JSON, True, body={"query": "{ me {"}, headers={"accept": JSON},
                      check=lambda b: b["data"] is None), id="legacy-parse-error-is-200"),
    pytest.param(Rule(200, JSON, True, body={"query": "{ nope }"}, headers={"accept": JSON}),
                 id="legacy-validation-error-is-200"),
    pytest.param(Rule(200, GQL, True, body={"query": '{ trackComplaint(number: "a\\nb") { number } }'},
                      headers={"accept": GQL}, check=lambda b: b["data"] == {"trackComplaint": None}),
                 id="field-error-keeps-data-and-200"),
    pytest.param(Rule(200, GQL, True, method="GET", params={"query": ME}, headers={"accept": GQL}),
                 id="get-query"),
    pytest.param(Rule(200, JSON, True, method="GET", params={
        "query": "query($n: String!) { trackComplaint(number: $n) { number } }", "variables": '{"n": "X-1"}'},
        headers={"accept": JSON}, check=lambda b: b["data"] == {"trackComplaint": None}), id="get-variables-as-json"),
    pytest.param(Rule(200, JSON, True, body={"query": "query A { me { subject } } query B { me { roles } }",
                      "operationName": "B"}, check=lambda b: "roles" in b["data"]["me"]), id="operation-name-selects"),
    pytest.param(Rule(400, GQL, False, body={"query": "query A { me { subject } } query B { me { roles } }"},
                      headers={"accept": GQL}, check=lambda b: b["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"),
                 id="several-operations-need-a-name"),
    pytest.param(Rule(405, JSON, None, method="GET", params={"query": "mutation { __typename }"}),
                 id="get-mutation-is-405"),
    pytest.param(Rule(400, JSON, None, content=b"{", headers={"content-type": JSON}), id="unparsable-body-is-400"),
    pytest.param(Rule(400, JSON, None, body={"variables": {}}), id="missing-query-is-400"),
    pytest.param(Rule(400, JSON, None, body={"query": 1}), id="non-string-query-is-400"),
    pytest.param(Rule(400, JSON, None, body={"query": ME, "variables": "x"}), id="non-object-variables-is-400"),
    pytest.param(Rule(400, JSON, None, body={"query": ME, "extensions": []}), id="non-object-extensions-is-400"),
    pytest.param(Rule(415, JSON, None, content=b"{}", headers={"content-type": "text/plain"}),
                 id="unsupported-media-type-is-415"),
    pytest.param(Rule(406, JSON, None, body={"query": ME}, headers={"accept": "application/xml"}),
                 id="not-acceptable-is-406"),
    pytest.param(Rule(405, JSON, None, method="PATCH", body={"query": ME}), id="other-methods-are-405"),
]


@pytest.mark.parametrize("rule", RULES)
def test_graphql_over_http_rule(client: TestClient, rule: Rule) -> None:
    kwargs: dict[str, Any] = {"headers": rule.headers}
    if rule.content is not None:
        kwargs["content"] = rule.content
    elif rule.body is not None:
        kwargs["json"] = rule.body
    if rule.params is not None:
        kwargs["params"] = rule.params
    response = client.request(rule.method, "/graphql", **kwargs)

    assert response.status_code == rule.status, response.text
    assert response.headers["content-type"].split(";")[0] == rule.media
    body = response.json()
    if rule.has_data is None:
        assert "data" not in body and body["errors"][0]["extensions"]["code"]
    else:
        assert ("data" in body) is rule.has_data, body
    assert rule.check(body), body


def test_a_mutation_over_get_names_the_allowed_method(client: TestClient) -> None:
    response = client.get("/graphql", params={"query": "mutation { __typename }"})
    assert response.headers["allow"] == "POST"


def test_a_browser_without_a_query_gets_the_ide(client: TestClient) -> None:
    response = client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")


def test_graphql_response_json_also_carries_codes_of_refusals_before_execution(
    client: TestClient, token: Callable[..., Headers]
) -> None:
    response = client.post(
        "/graphql",
        json={"query": '{ citizen(nik: "1471080101800001") { fullName } }'},
        headers={**token("population_officer"), "accept": GQL},
    )
    assert response.status_code == 400
    assert "data" not in response.json()
    assert response.json()["errors"][0]["extensions"]["code"] == "PURPOSE_REQUIRED"
