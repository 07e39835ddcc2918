"""Introspection for IDEs: every role allowed to introspect gets its own schema from
the standard introspection query (deeper than any role's depth limit), while
introspection documents built to be large or deep are refused before validation
(`schema/extensions/shape.py`)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from graphql import build_client_schema, build_schema, get_introspection_query
from starlette.testclient import TestClient

from hub.schemas import load_access, role_sdl
from hub.settings import Settings
from schema.extensions.shape import MAX_INTROSPECTION_DEPTH, MEMBER_LISTS
from tests.support.hardening import Headers

#: the variants IDEs send: graphql-js' defaults (GraphiQL 3 asks for these options
#: when the server supports them)
INTROSPECTION_QUERIES = [
    pytest.param(get_introspection_query(), id="defaults"),
    pytest.param(get_introspection_query(descriptions=True, specified_by_url=True, directive_is_repeatable=True,
                                         schema_description=True, input_value_deprecation=True), id="all-options"),
]


def introspecting_roles(settings: Settings) -> list[str]:
    policy, _ = load_access(settings)
    return sorted(r for r in policy.grantable_roles if policy.limits(r).introspection)


def claims_for(role: str) -> dict[str, str]:
    return {"kelurahan": "1471081001"} if role == "kelurahan_officer" else (
        {"nik": "1471080101800001"} if role == "citizen" else {})


def post(client: TestClient, query: str, headers: Headers | None = None) -> dict:
    response = client.post("/graphql", json={"query": query}, headers=headers or {})
    assert response.status_code == 200, response.text[:500]
    return response.json()


@pytest.mark.parametrize("query", INTROSPECTION_QUERIES)
def test_every_role_that_may_introspect_gets_its_own_schema(
    client: TestClient, settings: Settings, token: Callable[..., Headers], query: str
) -> None:
    policy, _ = load_access(settings)
    roles = introspecting_roles(settings)
    assert len(roles) >= 6, roles
    seen = {}
    for role in roles:
        answer = post(client, query, token(role, **claims_for(role)))
        assert "errors" not in answer, (role, answer.get("errors"))
        introspected = build_client_schema(answer["data"])
        expected = build_schema(role_sdl(policy, role))
        for name, type_ in expected.type_map.items():
            if name.startswith("__") or not hasattr(type_, "fields"):
                continue
            got = introspected.type_map.get(name)
            assert got is not None, (role, name)
            assert set(got.fields) == set(type_.fields), (role, name)  # type: ignore[attr-defined]
        assert set(introspected.type_map) == set(expected.type_map), role
        seen[role] = frozenset(introspected.query_type.fields)  # type: ignore[union-attr]
    assert len(set(seen.values())) > 1  # roles do see different schemas


def test_the_anonymous_caller_still_may_not_introspect(client: TestClient) -> None:
    answer = post(client, "{ __schema { queryType { name } } }")
    assert answer["data"] is None
    assert "introspection has been disabled" in answer["errors"][0]["message"]
    assert post(client, get_introspection_query())["data"] is None  # (over its selections, too)


def refused(answer: dict, limit: str) -> None:
    assert answer.get("data") is None, answer
    assert answer["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX", answer
    assert answer["errors"][0]["extensions"]["limit"] == limit, answer


def of_type_chain(levels: int) -> str:
    return "{ __type(name: \"Query\") { fields { type { " + "ofType { " * levels + "name" + " }" * levels + " } } } }"


def test_a_deep_of_type_chain_is_refused_and_the_deepest_allowed_one_answers(
    client: TestClient, token: Callable[..., Headers]
) -> None:
    headers = token("population_officer")
    allowed = MAX_INTROSPECTION_DEPTH - 3  # `__type`, `fields` and `type`, then the chain
    assert "errors" not in post(client, of_type_chain(allowed), headers)
    refused(post(client, of_type_chain(allowed + 1), headers), "introspectionDepth")
    refused(post(client, of_type_chain(60), headers), "introspectionDepth")


#: from a type's member list back to a `__Type` (an enum value has no type)
BACK_TO_TYPE = {"fields": "type", "inputFields": "type", "interfaces": "", "possibleTypes": ""}


def _nested_lists(outer: str, inner: str) -> str:
    hop = BACK_TO_TYPE[outer]
    inner_selection = f"{inner} {{ name }}"
    body = f"{hop} {{ {inner_selection} }}" if hop else inner_selection
    return f"{{ __schema {{ types {{ {outer} {{ name {body} }} }} }} }}"


NESTED = [pytest.param(_nested_lists(outer, inner), id=f"{outer}-{inner}")
          for outer, inner in itertools.product(BACK_TO_TYPE, sorted(MEMBER_LISTS))]


@pytest.mark.parametrize("document", NESTED)
def test_listing_a_types_members_under_a_member_is_refused(
    client: TestClient, token: Callable[..., Headers], document: str
) -> None:
    """Each pair of member lists, one under the other: the answer would grow with the
    square of the schema (and a power of it, deeper)."""
    refused(post(client, document, token("analyst")), "introspectionLists")


@pytest.mark.parametrize("document", [
    pytest.param("query { __schema { types { ...T } } } fragment T on __Type { fields { type { ...U } } } "
                 "fragment U on __Type { fields { name } }", id="through-fragments"),
    pytest.param("{ __schema { types { ... on __Type { interfaces { ... on __Type { possibleTypes { name } } } } } } }",
                 id="through-inline-fragments"),
    pytest.param('{ __type(name: "Query") { fields { type { ofType { ofType { fields { name } } } } } } }',
                 id="under-of-type"),
    pytest.param("{ __schema { queryType { fields { type { fields { type { fields { name } } } } } } } }",
                 id="three-levels"),
])
def test_nested_member_lists_are_refused_however_they_are_written(
    client: TestClient, token: Callable[..., Headers], document: str
) -> None:
    refused(post(client, document, token("population_officer")), "introspectionLists")


def test_a_huge_introspection_document_is_refused(client: TestClient, token: Callable[..., Headers]) -> None:
    headers = token("population_officer")
    copies = " ".join(f"s{i}: __schema {{ types {{ fields {{ args {{ name }} }} }} }}" for i in range(31))
    refused(post(client, "{ " + copies + " }", headers), "aliases")
    full = get_introspection_query(descriptions=True)
    fragments = full[full.index("fragment FullType"):]
    thrice = "{ " + " ".join(f"{a}: __schema {{ types {{ ...FullType }} }}" for a in "abc") + " } " + fragments
    refused(post(client, thrice, headers), "selections")


def test_introspection_does_not_lift_the_depth_limit_of_the_rest(
    client: TestClient, token: Callable[..., Headers]
) -> None:
    """Beside an introspection field, and disguised as one inside a field (which
    validation refuses), a deep selection is still held to the role's depth (12)."""
    headers = token("population_officer")
    deep = "family { members { " * 6 + "nik" + " } }" * 6
    beside = f'{{ __type(name: "Query") {{ name }} citizen(nik: "1471080101800001") {{ {deep} }} }}'
    refused(post(client, beside, headers), "depth")
    disguised = '{ citizen(nik: "1471080101800001") { __schema { types { name } } ' + deep + " } }"
    refused(post(client, disguised, headers), "depth")
    inside = '{ me { __schema { types { ' + "fields { type { ofType { " * 1 + "name } } } } } } }"
    answer = post(client, inside, headers)
    assert answer.get("data") is None and answer["errors"], answer  # validation: not a field of Me
