"""Malicious and malformed requests through the real HTTP app: each gets a clear error
with a code (or, where GraphQL-over-HTTP says so, a 200 with errors), never a 500 or a
traceback, and the hub stays healthy afterwards."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.hardening import Headers, assert_healthy

OFFICER = "population_officer"
PURPOSE = {"X-Access-Purpose": "population-service"}
GOOD_NIK = "1471080101900001"
GQL_RESPONSE = "application/graphql-response+json"


@dataclass(frozen=True)
class Case:
    status: int
    code: str | None  # None: no error at all (the request was harmless)
    message: str = ""  # a fragment of the first error's message (case-insensitive)
    method: str = "POST"
    json: Any = None
    content: bytes | None = None
    params: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    role: str | None = None
    data: Any = ...  # the expected `data`, when it matters


def gql(query: str, variables: Any = None, **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    body.update(kw)
    return body


def officer(query: str, status: int, code: str | None, message: str = "", variables: Any = None,
            **kw: Any) -> Case:
    return Case(status, code, message, json=gql(query, variables), role=OFFICER, headers=dict(PURPOSE), **kw)


NIK_QUERY = "query($nik: String!) { citizen(nik: $nik) { fullName } }"
DEEP = "{ citizens { edges { node { " + "family { members { " * 6 + "fullName" + " } }" * 6 + " } } } }"
ALIASES = "{ " + " ".join(f"a{i}: me {{ subject }}" for i in range(150)) + " }"  # within the token limit
DIRECTIVES = "{ me { subject " + "@include(if: true) " * 3000 + "} }"
FRAGMENT_CYCLE = "fragment A on Principal { subject ...B } fragment B on Principal { roles ...A } { me { ...A } }"
WIDE_FRAGMENTS = "".join(
    f"fragment F{i} on Principal {{ ...F{i + 1} ...F{i + 1} }} " for i in range(25)
) + "fragment F25 on Principal { subject } { me { ...F0 } }"  # 2^25 selections once written out

CASES = [
    # -- the HTTP envelope ---------------------------------------------------------------
    pytest.param(Case(400, "BAD_REQUEST", "not valid JSON", content=b"{not json",
                      headers={"content-type": "application/json"}), id="malformed-json"),
    pytest.param(Case(400, "BAD_REQUEST", "not valid JSON", content=b'{"query": "{ me { subject } }"',
                      headers={"content-type": "application/json"}), id="truncated-json"),
    pytest.param(Case(400, "BAD_REQUEST", "empty", content=b"",
                      headers={"content-type": "application/json"}), id="empty-body"),
    pytest.param(Case(400, "BAD_REQUEST", "not valid JSON", content=b'{"query": "\xff\xfe{ me }"}',
                      headers={"content-type": "application/json"}), id="non-utf8-bytes"),
    pytest.param(Case(400, "BAD_REQUEST", "not valid JSON", content=b'{"query": "\\ud800"}',
                      headers={"content-type": "application/json"}), id="lone-surrogate-escape"),
    pytest.param(Case(400, "BAD_REQUEST", "JSON object", json="{ me { subject } }"), id="body-is-a-string"),
    pytest.param(Case(400, "BAD_REQUEST", "JSON object", json=42), id="body-is-a-number"),
    pytest.param(Case(400, "BAD_REQUEST", "JSON object", json=None, content=b"null",
                      headers={"content-type": "application/json"}), id="body-is-null"),
    pytest.param(Case(400, "BATCH_NOT_SUPPORTED", "one operation per request",
                      json=[gql("{ me { subject } }")] * 3), id="batched-operations"),
    pytest.param(Case(400, "BATCH_NOT_SUPPORTED", "one operation per request",
                      json=[gql("{ me { subject } }")] * 1000), id="huge-batch"),
    pytest.param(Case(415, "UNSUPPORTED_MEDIA_TYPE", "application/json", content=b"{ me { subject } }",
                      headers={"content-type": "text/plain"}), id="text-plain"),
    pytest.param(Case(415, "UNSUPPORTED_MEDIA_TYPE", "application/json", content=b"query=%7Bme%7D",
                      headers={"content-type": "application/x-www-form-urlencoded"}), id="form-encoded"),
    pytest.param(Case(415, "UNSUPPORTED_MEDIA_TYPE", "application/json", content=b"{ me { subject } }",
                      headers={"content-type": "application/graphql"}), id="application-graphql"),
    pytest.param(Case(415, "UNSUPPORTED_MEDIA_TYPE", "UTF-8", content=json.dumps(gql("{ me { subject } }")).encode(),
                      headers={"content-type": "application/json; charset=latin-1"}), id="latin1-charset"),
    pytest.param(Case(415, "UNSUPPORTED_MEDIA_TYPE", "application/json", content=b"{}",
                      headers={"content-type": ""}), id="no-content-type"),
    pytest.param(Case(406, "NOT_ACCEPTABLE", "Accept", json=gql("{ me { subject } }"),
                      headers={"accept": "text/csv"}), id="unacceptable-accept"),
    pytest.param(Case(405, "METHOD_NOT_ALLOWED", "PUT", method="PUT", json=gql("{ me { subject } }")),
                 id="put-method"),
    pytest.param(Case(405, "METHOD_NOT_ALLOWED", "DELETE", method="DELETE"), id="delete-method"),
    pytest.param(Case(413, "PAYLOAD_TOO_LARGE", "larger than", json=gql("{ me { subject } }", pad="x" * 300_000)),
                 id="oversized-body"),
    pytest.param(Case(413, "PAYLOAD_TOO_LARGE", "larger than", content=b"{" + b" " * 400_000 + b"}",
                      headers={"content-type": "application/json"}), id="oversized-whitespace"),
    # -- the operation fields ------------------------------------------------------------
    pytest.param(Case(400, "BAD_REQUEST", "No GraphQL query", json={}), id="missing-query"),
    pytest.param(Case(400, "BAD_REQUEST", "No GraphQL query", json={"query": None}), id="null-query"),
    pytest.param(Case(400, "BAD_REQUEST", "No GraphQL query", json={"query": "   "}), id="blank-query"),
    pytest.param(Case(400, "BAD_REQUEST", "must be a string", json={"query": ["{ me { subject } }"]}),
                 id="query-is-a-list"),
    pytest.param(Case(400, "BAD_REQUEST", "must be a string", json={"query": {"me": "subject"}}),
                 id="query-is-an-object"),
    pytest.param(Case(400, "BAD_REQUEST", "`variables` must be", json=gql("{ me { subject } }", variables="x")),
                 id="variables-is-a-string"),
    pytest.param(Case(400, "BAD_REQUEST", "`variables` must be", json=gql("{ me { subject } }", variables=[1])),
                 id="variables-is-a-list"),
    pytest.param(Case(400, "BAD_REQUEST", "`operationName` must be",
                      json=gql("{ me { subject } }", operationName=7)), id="operation-name-is-a-number"),
    pytest.param(Case(400, "BAD_REQUEST", "`extensions` must be",
                      json=gql("{ me { subject } }", extensions="x")), id="extensions-is-a-string"),
    pytest.param(Case(400, "BAD_REQUEST", "Unknown operation named",
                      json=gql("query A { me { subject } }", operationName="B")), id="unknown-operation-name"),
    # -- GET ---------------------------------------------------------------------------
    pytest.param(Case(405, "METHOD_NOT_ALLOWED", "only allowed over POST", method="GET",
                      params={"query": 'mutation { submitComplaint(input: {title: "x", content: "y", '
                              'classification: PENGADUAN, category: "c", kelurahan: "k"}) { number } }'}),
                 id="mutation-over-get"),
    pytest.param(Case(400, "BAD_REQUEST", "`variables` is not valid JSON", method="GET",
                      params={"query": "{ me { subject } }", "variables": "{oops"}), id="get-bad-variables-json"),
    pytest.param(Case(400, "BAD_REQUEST", "No GraphQL query", method="GET", params={"operationName": "A"},
                      headers={"accept": "application/json"}), id="get-without-query"),
    pytest.param(Case(200, "GRAPHQL_PARSE_FAILED", "Syntax Error", method="GET", params={"query": "{ me {"}),
                 id="get-syntax-error"),
    # -- documents -----------------------------------------------------------------------
    pytest.param(Case(200, "GRAPHQL_PARSE_FAILED", "Syntax Error", json=gql("{ me { subject ")), id="unclosed-brace"),
    pytest.param(Case(200, "GRAPHQL_PARSE_FAILED", "Syntax Error", json=gql("SELECT * FROM BIODATA_WNI")),
                 id="sql-as-document"),
    pytest.param(Case(200, "GRAPHQL_PARSE_FAILED", "Syntax Error", json=gql('{ me { subject } } "')),
                 id="unterminated-string"),
    pytest.param(Case(200, "GRAPHQL_PARSE_FAILED", "Syntax Error", json=gql("\x00\x01{ me }")),
                 id="control-characters"),
    pytest.param(Case(200, "GRAPHQL_VALIDATION_FAILED", "Cannot query field", json=gql("{ nope }")),
                 id="unknown-field"),
    pytest.param(Case(200, "GRAPHQL_VALIDATION_FAILED", "Cannot query field", json=gql("{ citizens { totalCount } }")),
                 id="field-hidden-from-role"),
    pytest.param(Case(200, "GRAPHQL_VALIDATION_FAILED", "must have a selection", json=gql("{ me }")),
                 id="missing-selection"),
    pytest.param(Case(200, "GRAPHQL_VALIDATION_FAILED", "Unknown argument",
                      json=gql('{ me(drop: "table") { subject } }')), id="unknown-argument"),
    pytest.param(Case(200, "GRAPHQL_VALIDATION_FAILED", "within itself", json=gql(FRAGMENT_CYCLE)),
                 id="fragment-cycle"),
    pytest.param(Case(200, "GRAPHQL_VALIDATION_FAILED", "Unknown fragment", json=gql("{ me { ...Nope } }")),
                 id="unknown-fragment"),
    pytest.param(Case(200, "QUERY_TOO_COMPLEX", "more than", json=gql(DIRECTIVES)), id="thousands-of-directives"),
    pytest.param(Case(200, "QUERY_TOO_COMPLEX", "aliases", json=gql(ALIASES)), id="too-many-aliases"),
    pytest.param(Case(200, "QUERY_TOO_COMPLEX", "more than",
                      json=gql("{ me { " + "subject " * 6000 + "} }")), id="token-flood"),
    pytest.param(officer(WIDE_FRAGMENTS, 200, "QUERY_TOO_COMPLEX", "100663296 selections"),
                 id="exponential-fragment-spreads"),  # 27 definitions: more than the public may send
    pytest.param(Case(200, "GRAPHQL_VALIDATION_FAILED", "introspection has been disabled",
                      json=gql("{ __schema { types { name } } }")), id="anonymous-introspection"),
    pytest.param(Case(200, "GRAPHQL_VALIDATION_FAILED", "introspection has been disabled",
                      json=gql('{ __type(name: "Query") { name } }')), id="anonymous-type-introspection"),
    pytest.param(officer(DEEP, 200, "QUERY_TOO_COMPLEX", "maximum operation depth"), id="deep-nesting"),
    pytest.param(officer("{ citizens(first: 100) { edges { node { family { members { family { members "
                         "{ applications { number } } } } } } } } }", 200, "QUERY_TOO_COMPLEX", "would cost"),
                 id="too-costly"),
    # -- values of the wrong shape ---------------------------------------------------------
    pytest.param(officer(NIK_QUERY, 200, "BAD_USER_INPUT", "16 digits", variables={"nik": "12345"}),
                 id="nik-too-short"),
    pytest.param(officer(NIK_QUERY, 200, "BAD_USER_INPUT", "16 digits", variables={"nik": "14710801019000011"}),
                 id="nik-too-long"),
    pytest.param(officer(NIK_QUERY, 200, "BAD_USER_INPUT", "", variables={"nik": "147108010190000A"}),
                 id="nik-with-letter"),
    pytest.param(officer(NIK_QUERY, 200, "BAD_USER_INPUT", "", variables={"nik": "1471083213900001"}),
                 id="nik-impossible-month"),
    pytest.param(officer(NIK_QUERY, 200, "BAD_USER_INPUT", "String cannot represent", variables={"nik": 1471080101900001}),
                 id="nik-as-number"),
    pytest.param(officer(NIK_QUERY, 200, "BAD_USER_INPUT", "non-null", variables={}), id="missing-variable"),
    pytest.param(officer(NIK_QUERY, 200, "BAD_USER_INPUT", "non-null", variables={"nik": None}), id="null-variable"),
    pytest.param(officer("query($f: Int) { citizens(first: $f) { edges { node { fullName } } } }", 200,
                         "BAD_USER_INPUT", "Int cannot represent", variables={"f": "ten"}), id="int-as-string"),
    pytest.param(officer("query($f: Int) { citizens(first: $f) { edges { node { fullName } } } }", 200,
                         "BAD_USER_INPUT", "Int cannot represent", variables={"f": 2**40}), id="int-overflow"),
    pytest.param(officer("{ citizens(first: -1) { edges { node { fullName } } } }", 200, "BAD_USER_INPUT",
                         "must not be negative"), id="negative-page-size"),
    pytest.param(officer("{ citizens(first: 100000) { edges { node { fullName } } } }", 200, "QUERY_TOO_COMPLEX",
                         "would cost"), id="huge-page-size"),
    pytest.param(officer("{ citizens(first: 101) { edges { node { nik } } } }", 200, "BAD_USER_INPUT", "at most"),
                 id="page-size-over-cap"),
    pytest.param(officer('{ citizens(after: "garbage") { edges { node { fullName } } } }', 200, "BAD_USER_INPUT",
                         "not a cursor"), id="bad-cursor"),
    pytest.param(officer('{ citizens(after: "eyJjIjoxLCJvIjotNX0") { edges { node { fullName } } } }', 200,
                         "BAD_USER_INPUT", "not a cursor"), id="forged-cursor"),
    pytest.param(officer("query($s: Sex) { citizens(filter: {sex: $s}) { edges { node { fullName } } } }", 200,
                         "BAD_USER_INPUT", "does not exist in 'Sex'", variables={"s": "UNKNOWN"}), id="unknown-enum"),
    pytest.param(officer("{ citizens(filter: {sex: ROBOT}) { edges { node { fullName } } } }", 200,
                         "GRAPHQL_VALIDATION_FAILED", "ROBOT"), id="unknown-enum-literal"),
    pytest.param(officer("query($d: Date) { citizens(filter: {bornFrom: $d}) { edges { node { fullName } } } }",
                         200, "BAD_USER_INPUT", "Date", variables={"d": "2023-02-30"}), id="impossible-date"),
    pytest.param(officer('{ citizens(filter: {bornFrom: "31/12/1990"}) { edges { node { fullName } } } }', 200,
                         "GRAPHQL_VALIDATION_FAILED", "Date"), id="date-wrong-format"),
    pytest.param(officer('{ citizens(filter: {bornFrom: "2000-01-01", bornTo: "1990-01-01"}) '
                         "{ edges { node { fullName } } } }", 200, "BAD_USER_INPUT", "ends before"),
                 id="reversed-date-range"),
    pytest.param(officer('{ citizens(filter: {kelurahan: ["14710810\'; DROP TABLE x;--"]}) '
                         "{ edges { node { fullName } } } }", 200, "BAD_USER_INPUT", "kelurahan code"),
                 id="sql-injection-in-filter"),
    pytest.param(officer('{ family(number: "../../etc/passwd") { number } }', 200, "BAD_USER_INPUT",
                         "16-digit"), id="path-injection-family"),
    pytest.param(officer('{ citizen(nik: "1471080101900001\' OR \'1\'=\'1") { fullName } }', 200,
                         "BAD_USER_INPUT", "16 digits"), id="sql-injection-nik"),
    pytest.param(officer('{ citizens(filter: {nameContains: "' + "x" * 500 + '"}) { edges { node { fullName } } } }',
                         200, "BAD_USER_INPUT", "at most"), id="overlong-search"),
    # -- strings that look like attacks reach the source as plain values -------------------
    pytest.param(Case(200, None, data={"trackComplaint": None},
                      json=gql('{ trackComplaint(number: "1\' OR \'1\'=\'1") { number } }')), id="sql-injection-number"),
    pytest.param(Case(200, None, data={"trackApplication": None},
                      json=gql('{ trackApplication(number: "../../../etc/passwd") { number } }')),
                 id="path-traversal-number"),
    pytest.param(Case(200, None, data={"trackApplication": None},
                      json=gql('query($n: String!) { trackApplication(number: $n) { number } }', {"n": "%2e%2e%2f%00"})),
                 id="encoded-traversal-number"),
    pytest.param(Case(200, "BAD_USER_INPUT", "not a record number",
                      json=gql('query($n: String!) { trackApplication(number: $n) { number } }', {"n": "a\nb\x00"})),
                 id="control-chars-in-number"),
    pytest.param(Case(200, "BAD_USER_INPUT", "not a record number",
                      json=gql('query($n: String!) { trackComplaint(number: $n) { number } }', {"n": "9" * 5000})),
                 id="overlong-number"),
    # -- who is asking ---------------------------------------------------------------------
    pytest.param(Case(401, "UNAUTHENTICATED", "Not authenticated", json=gql("{ me { subject } }"),
                      headers={"authorization": "Bearer not.a.jwt"}), id="garbage-token"),
    pytest.param(Case(401, "UNAUTHENTICATED", "Not authenticated", json=gql("{ me { subject } }"),
                      headers={"authorization": "Basic dXNlcjpwYXNz"}), id="basic-auth"),
    pytest.param(Case(200, "PURPOSE_REQUIRED", "X-Access-Purpose", json=gql(NIK_QUERY, {"nik": GOOD_NIK}),
                      role=OFFICER), id="personal-data-without-purpose"),
    pytest.param(Case(200, "PURPOSE_REQUIRED", "", json=gql(NIK_QUERY, {"nik": GOOD_NIK}), role=OFFICER,
                      headers={"X-Access-Purpose": "'; DROP TABLE ledger; --"}), id="injected-purpose"),
]


def _send(client: TestClient, case: Case, token: Callable[..., Headers]) -> Any:
    headers = dict(case.headers)
    if case.role is not None:
        headers.update(token(case.role))
    kwargs: dict[str, Any] = {"headers": headers}
    if case.content is not None:
        kwargs["content"] = case.content
    elif case.json is not None:
        kwargs["json"] = case.json
    if case.params is not None:
        kwargs["params"] = case.params
    return client.request(case.method, "/graphql", **kwargs)


def test_the_table_has_at_least_sixty_cases() -> None:
    assert len(CASES) >= 60


@pytest.mark.parametrize("case", CASES)
def test_bad_input_gets_a_clear_error_and_the_hub_stays_healthy(
    client: TestClient, token: Callable[..., Headers], case: Case
) -> None:
    response = _send(client, case, token)

    assert response.status_code == case.status, response.text[:500]
    assert response.headers["content-type"].startswith("application/")
    body = response.json()
    assert "Traceback" not in response.text and 'File "' not in response.text
    if case.code is None:
        assert "errors" not in body, body
    else:
        first = body["errors"][0]
        assert first["extensions"]["code"] == case.code, body
        assert case.message.lower() in first["message"].lower(), first["message"]
        assert len(first["message"]) < 500
    if case.data is not ...:
        assert body["data"] == case.data
    assert_healthy(client)


def test_every_refusal_outside_graphql_carries_the_request_id(client: TestClient) -> None:
    response = client.post("/graphql", content=b"{", headers={"content-type": "application/json",
                                                               "x-request-id": "req-12345678"})
    assert response.headers["x-request-id"] == "req-12345678"
    assert response.json()["errors"][0]["extensions"]["requestId"] == "req-12345678"
