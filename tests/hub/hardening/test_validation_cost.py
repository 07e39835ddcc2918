"""What validation may cost: documents built to make graphql-core's validation slow
(the overlapping-fields rule is quadratic in fields under one response name) are
refused with QUERY_TOO_COMPLEX before it runs, each limit with a message naming it,
while legitimate documents stay within their roles' limits. Timings are printed by
`python -m bench.adversarial`, not asserted here."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from graphql import FieldNode, OperationDefinitionNode, get_introspection_query, parse
from graphql.language import Lexer, Source, TokenKind
from starlette.testclient import TestClient

from auth.policy import Policy, load_policy
from bench.adversarial_documents import FAMILIES, LEXER_ONLY, QUADRATIC, documents, fill, unique
from tests.support.hardening import Headers, assert_healthy, guarded_sources, memory_settings
from tests.support.sample_world import World
from hub.app import create_app
from bench.operations import default_mix
from hub.public.report import REPORT_SELECTION, SATISFACTION_QUERY
from schema.access import catalogue_of
from schema.build import build_role_schema, build_schema, shape_limits
from schema.extensions.shape import measure, refusal
from schema.value_kinds import value_kinds

TRACK = 'trackApplication(number: "x") { status }'
PURPOSE = {"X-Access-Purpose": "population-service"}


@pytest.fixture(scope="module")
def policy() -> Policy:
    catalogue = catalogue_of(build_schema()._schema)
    return load_policy(None, catalogue=catalogue, kinds=value_kinds(catalogue))


def code_and_limit(body: dict) -> tuple[str | None, str | None]:
    extensions = (body.get("errors") or [{}])[0].get("extensions", {})
    return extensions.get("code"), extensions.get("limit")


# -- each limit, for the anonymous caller -----------------------------------------------

LIMITS = [
    pytest.param("#" + "x" * 8_200 + "\n{ __typename }", "#" + "x" * 8_000 + "\n{ __typename }",
                 "length", "more than 8192 code points", id="length"),
    pytest.param("{ " + "a " * 1_001 + "}", "{ " + "__typename " * 5 + "}",
                 "tokens", "more than 1000 tokens", id="tokens"),
    pytest.param("".join(f"fragment F{i} on Query {{ __typename }} " for i in range(5)) + "{ ...F0 }",
                 "".join(f"fragment F{i} on Query {{ __typename }} " for i in range(4)) + "{ ...F0 }",
                 "definitions", "6 operations and fragments, more than the 5", id="definitions"),
    pytest.param("{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }",
                 "{ " + " ".join(f"a{i}: __typename" for i in range(30)) + " }",
                 "aliases", "31 aliases found", id="aliases"),
    pytest.param("fragment F on Query { __typename } { " + "...F " * 101 + "}",
                 "fragment F on Query { __typename } { ...F }",
                 "selections", "202 selections", id="selections-through-fragments"),
    pytest.param('{ trackApplication(number: "x" ' + 'number: "x" ' * 200 + ") { status } }",
                 '{ trackApplication(number: "x") { status } }',
                 "selections", "203 selections", id="selections-in-arguments"),
    pytest.param("{ " + f"{TRACK} " * 6 + "}", "{ " + f"{TRACK} " * 5 + "}",
                 "repeatedFields", "6 fields answer under one response name", id="repeated-fields"),
    pytest.param('{ trackApplication(number: "x") { ' + "history { status } " * 6 + "} }",
                 '{ trackApplication(number: "x") { ' + "history { status } " * 5 + "} }",
                 "repeatedFields", "6 fields answer", id="repeated-nested-fields"),
    pytest.param('fragment F on Application { history { status } } '
                 '{ trackApplication(number: "x") { ...F ...on Application { history { status } } '
                 + "history { status } " * 4 + "} }",
                 'fragment F on Application { history { status } } { trackApplication(number: "x") { ...F } }',
                 "repeatedFields", "6 fields answer", id="repeated-through-fragments"),
]


@pytest.mark.parametrize(("refused", "accepted", "limit", "message"), LIMITS)
def test_each_document_limit_refuses_with_a_message_naming_it(
    client: TestClient, refused: str, accepted: str, limit: str, message: str
) -> None:
    body = client.post("/graphql", json={"query": refused}).json()

    assert code_and_limit(body) == ("QUERY_TOO_COMPLEX", limit), body
    assert message in body["errors"][0]["message"]
    assert body["data"] is None
    answer = client.post("/graphql", json={"query": accepted}).json()
    assert code_and_limit(answer)[0] != "QUERY_TOO_COMPLEX", answer


def test_a_refusal_tells_the_limit_and_the_value(client: TestClient) -> None:
    body = client.post("/graphql", json={"query": "{ " + f"{TRACK} " * 9 + "}"}).json()
    assert body["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX", "limit": "repeatedFields", "value": 9, "maximum": 5,
    }


def test_graphql_response_media_type_answers_400(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": "{ " + f"{TRACK} " * 9 + "}"},
                           headers={"accept": "application/graphql-response+json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


# -- the generator's worst documents, at once -----------------------------------------


def test_the_worst_generated_documents_are_all_refused_while_arriving_at_once(client: TestClient) -> None:
    """Every family, 15 KB long and as long as the anonymous limit allows (8 KB)."""
    attack = [(family, document) for budget in (15 * 1024, 8 * 1024)
              for family, document in documents(budget).items() if family not in LEXER_ONLY]
    assert set(QUADRATIC) <= {family for family, _ in attack}

    def send(index: int) -> tuple[str, dict]:
        family, document = attack[index]
        return family, client.post("/graphql", json=unique(family, document, index)).json()

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(send, range(len(attack))))

    refused = {family: code_and_limit(body) for family, body in answers}
    assert all(code == "QUERY_TOO_COMPLEX" for code, _ in refused.values()), refused
    assert_healthy(client)


@pytest.mark.parametrize("family", QUADRATIC)
def test_quadratic_shapes_below_the_token_limit_are_refused_by_their_shape(client: TestClient, family: str) -> None:
    """Sized under the anonymous token limit (1,000), so the shape limits, not the
    parser, refuse them."""
    document = fill(FAMILIES[family], 1536)
    body = client.post("/graphql", json=unique(family, document, 0)).json()
    code, limit = code_and_limit(body)
    assert code == "QUERY_TOO_COMPLEX", body
    assert limit in {"aliases", "selections", "repeatedFields", "definitions", "depth"}, body


# -- measuring ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "repeated"),
    [
        pytest.param("{ a: me { subject } b: me { subject } }", 1, id="aliases-are-other-names"),
        pytest.param("{ me { subject } me { subject subject } }", 3, id="merged-children"),
        pytest.param("fragment F on Principal { subject } { me { subject ...F ... on Principal { subject } } }", 3,
                     id="fragments-and-inline-fragments-merge"),
        pytest.param("fragment F on Query { me { subject } } { ...F ...F me { roles } }", 3,
                     id="a-fragment-spread-twice-counts-twice"),
        pytest.param("fragment F on Query { x: __typename x: __typename } { __typename }", 2,
                     id="a-fragment-no-operation-spreads"),
    ],
)
def test_repeated_fields_are_counted_per_response_path(document: str, repeated: int) -> None:
    assert measure(parse(document)).repeated_fields == repeated


def test_selections_count_arguments_directives_and_variables() -> None:
    document = 'query($a: Int = 1, $b: [Int] = [1, 2]) { f(x: {y: 1, z: [1, 2]}) @include(if: true) { g } }'
    # 2 variables (+1, +3 for the default list), f (+1, +5 for the argument), @include (+2), g
    assert measure(parse(document)).selections == (1 + 1) + (1 + 3) + (1 + 5) + 2 + 1


def test_fragments_are_counted_as_if_written_out_without_expanding_them() -> None:
    chain = "".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }} " for i in range(200))
    shape = measure(parse(chain + "fragment F200 on Query { __typename } { ...F0 }"))
    assert shape.selections == 10**9  # capped
    assert shape.repeated_fields == 0  # not counted: the selections are already too many


# -- legitimate documents -----------------------------------------------------------------


def token_count(document: str) -> int:
    lexer, count = Lexer(Source(document)), 0
    while lexer.advance().kind is not TokenKind.EOF:
        count += 1
    return count


def within(policy: Policy, role: str, document: str) -> object:
    """None when `document` is within `role`'s limits, else what it exceeds."""
    limits = shape_limits(policy.limits(role))
    tokens = token_count(document)
    if len(document) > limits.max_length or tokens > limits.max_tokens:
        return f"{len(document)} characters, {tokens} tokens"
    return refusal(measure(parse(document)), limits)


def test_the_bench_operations_are_within_the_limits_of_every_role_that_may_run_them(policy: Policy) -> None:
    full = build_schema()
    root_fields = {role: set(build_role_schema(full, policy, frozenset({role}))._schema.query_type.fields)
                   for role in policy.roles}
    checked = 0
    for operation in default_mix():
        roots = {s.name.value for d in parse(operation.query).definitions
                 if isinstance(d, OperationDefinitionNode) for s in d.selection_set.selections
                 if isinstance(s, FieldNode)}
        for role, fields in root_fields.items():
            if roots <= fields:
                assert within(policy, role, operation.query) is None, (operation.name, role)
                checked += 1
    assert checked >= len(default_mix())


def test_the_public_pages_documents_are_within_the_anonymous_limits(policy: Policy) -> None:
    report = f"query {{ performanceReport(period: {{year: 2024, month: 12}}) {REPORT_SELECTION} }}"
    for document in (report, SATISFACTION_QUERY):
        assert within(policy, "anonymous", document) is None


def test_graphiqls_introspection_query_is_within_the_limits_of_every_role_that_may_introspect(
    policy: Policy,
) -> None:
    """Its depth (14) included: introspection has its own depth bound (shape.py)."""
    query = get_introspection_query(descriptions=True, specified_by_url=True, directive_is_repeatable=True,
                                    schema_description=True, input_value_deprecation=True)
    roles = [r for r in policy.roles if policy.limits(r).introspection]
    assert roles
    for role in roles:
        assert within(policy, role, query) is None, role


def test_document_limits_come_from_the_roles_policy(
    tmp_path: Path, world: World, token: Callable[..., Headers]
) -> None:
    policy = tmp_path / "policy.yaml"
    text = (Path(__file__).resolve().parents[3] / "auth" / "default_policy.yaml").read_text()
    limits = "limits: {max_query_cost: 5000, max_depth: 12"
    policy.write_text(text.replace(limits, limits + ", max_selections: 5", 1))  # population_officer
    query = "{ me { subject roles department kelurahan nik } }"
    with TestClient(create_app(memory_settings(tmp_path, policy_file=policy),
                               sources=guarded_sources(world))) as client:
        answer = client.post("/graphql", json={"query": query},
                             headers={**token("population_officer"), **PURPOSE}).json()
        allowed = client.post("/graphql", json={"query": query}, headers=token("licensing_officer")).json()
    assert answer["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX", "limit": "selections", "value": 6, "maximum": 5,
    }
    assert "errors" not in allowed, allowed
