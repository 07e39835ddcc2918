"""The fast path for plain fields (leaves, objects, lists of objects) answers exactly as
graphql-core's ordinary path: values, order, aliases, __typename, skip/include, nulls,
errors and their paths, nulls bubbling to the nearest nullable position."""

from __future__ import annotations

from typing import Any

import pytest

from auth.policy import Policy
from tests.schema.harness import POPULATION_OFFICER
from schema.build import build_role_schema, build_schema
from schema.context import Context, Environment
from schema.errors import format_error
from tests.support.sample_world import World

QUERIES = [
    pytest.param("""{ citizens(first: 50) { totalCount edges { cursor node { __typename nik fullName birthDate sex
        religion bloodType disability kelurahan { __typename code name } applications { number status dueDate
        overdue applicant { nik } } } } pageInfo { hasNextPage endCursor } } }""", id="list-with-links"),
    pytest.param("""{ a: citizens(first: 3) { edges { node { n: nik nik x: fullName ...F @include(if: true)
        occupation @skip(if: true) } } } } fragment F on Citizen { fullName age rt rw }""", id="aliases-fragments"),
    pytest.param("""{ citizen(nik: "1471080101800001") { nik sex maritalStatus familyRelationship
        family { number members { nik fullName } head { fullName } } } }""", id="single-with-family"),
    pytest.param('{ citizen(nik: "12345") { nik } }', id="bad-input-error"),
    pytest.param('{ citizen(nik: "1471080101990999") { nik } }', id="missing-record"),
    pytest.param("""{ applications(first: 10) { edges { node { number applicantKind requestKind receivedAt
        fileCompleteAt finishedAt permitType { code name serviceLevelDays } history { status sourceStatus at note }
        requirements { name fulfilled } } } } }""", id="applications"),
    pytest.param("""{ citizens(first: 5) { pageInfo { hasNextPage } edges { node { nik } cursor }
        e2: edges { __typename c: cursor node { __typename fullName kelurahan { name } } } } }""",
                 id="same-list-twice-with-aliases"),
    pytest.param("""{ citizens(first: 20) { edges { __typename node { nik sex maritalStatus age s: sex
        kelurahan { code name } birthDate } } } }""", id="flat-list-enums-ints-nested"),
    pytest.param("""{ citizens(first: 3) { edges { node { nik ... on Citizen { fullName family { number
        members { nik kelurahan { code } } } } } } } }""", id="inline-fragment-nested-lists"),
]


async def run(schema: Any, env: Environment, query: str) -> dict[str, Any]:
    ctx = Context.create(env, POPULATION_OFFICER, request_id="x", purpose="population-service")
    result = await schema.execute(query, context_value=ctx)
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [format_error(e, request_id="x") for e in result.errors]
    return body


async def answered_alike(env: Environment, policy: Policy, query: str) -> dict[str, Any]:
    """The answer of the fast path, after checking the ordinary path gives the same."""
    fast = build_role_schema(build_schema(), policy, frozenset({"population_officer"}))
    slow = build_schema(visible=fast._visible, with_mutation=False, fast_path=False)
    expected = await run(slow, env, query)
    actual = await run(fast, env, query)
    assert actual == expected
    assert list(str(actual)) == list(str(expected))  # same key order too
    return actual


@pytest.mark.parametrize("query", QUERIES)
async def test_the_fast_path_answers_exactly_as_the_ordinary_path(
    query: str, env: Environment, policy: Policy, world: World
) -> None:
    await answered_alike(env, policy, query)


async def test_a_null_in_a_non_null_leaf_fails_the_same_way_on_both_paths(
    env: Environment, policy: Policy, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from schema.types.common import Kelurahan

    broken = classmethod(lambda cls, info: cls(code=None, name="?", kecamatan="?"))
    monkeypatch.setattr(Kelurahan, "of", broken)
    query = '{ citizen(nik: "%s") { nik kelurahan { code name } } }' % world.citizens[0].nik
    actual = await answered_alike(env, policy, query)
    assert actual["data"] == {"citizen": {"nik": world.citizens[0].nik, "kelurahan": None}}
    assert actual["errors"][0]["path"] == ["citizen", "kelurahan", "code"]


async def test_validating_the_same_document_again_is_served_from_the_cache(  # type: ignore[no-untyped-def]
    execute, monkeypatch: pytest.MonkeyPatch
) -> None:
    from schema.extensions import validation

    validated = []
    real = validation.validate_document
    monkeypatch.setattr(validation, "validate_document", lambda *args: validated.append(args) or real(*args))
    query = "{ me { subject roles } applications(first: 2) { totalCount } }  # validated once"
    for _ in range(4):
        await execute(query)
    assert len(validated) == 1
    await execute(query + " ")  # another text: validated anew
    assert len(validated) == 2


async def test_a_failing_list_item_nulls_up_to_the_same_position_on_both_paths(
    env: Environment, policy: Policy, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edge's node is non-null: a node whose non-null leaf is null nulls the edge's
    list (edges is non-null too), and so the whole connection, with one error at the leaf."""
    from schema.types.common import Kelurahan

    broken = classmethod(lambda cls, info: cls(code=None, name="?", kecamatan="?"))
    monkeypatch.setattr(Kelurahan, "of", broken)
    query = "{ citizens(first: 3) { pageInfo { hasNextPage } edges { cursor node { nik kelurahan { code } } } } }"
    actual = await answered_alike(env, policy, query)
    assert actual["errors"][0]["path"][:3] == ["citizens", "edges", 0]


async def test_a_value_the_scalar_cannot_serialise_fails_the_same_way_on_both_paths(
    env: Environment, policy: Policy, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from schema.types.common import PageInfo

    original = PageInfo.__init__

    def odd(self: Any, **values: Any) -> None:
        original(self, **values)
        self.has_next_page = object()  # not a Boolean

    monkeypatch.setattr(PageInfo, "__init__", odd)
    query = "{ citizens(first: 2) { edges { node { nik } } pageInfo { hasNextPage endCursor } } }"
    actual = await answered_alike(env, policy, query)
    assert actual["errors"][0]["path"] == ["citizens", "pageInfo", "hasNextPage"]


async def test_a_flat_selection_is_compiled_once_and_reused_by_later_requests(
    env: Environment, policy: Policy, world: World
) -> None:
    from schema import flat_completion

    schema = build_role_schema(build_schema(), policy, frozenset({"population_officer"}))
    query = "{ citizens(first: 4) { edges { node { nik fullName sex kelurahan { name } } } } }"
    await run(schema, env, query)
    compiled = {t.name: dict(v) for t, v in flat_completion._COMPILED.items()}
    assert {"CitizenEdge", "Citizen", "Kelurahan"} <= set(compiled)

    again = await run(schema, env, query)

    assert {t.name: dict(v) for t, v in flat_completion._COMPILED.items()} == compiled
    assert len(again["data"]["citizens"]["edges"]) == 4


async def test_odd_values_in_a_flat_list_are_answered_as_the_ordinary_path_answers_them(
    env: Environment, policy: Policy, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A number where a String belongs is serialised; a value no enum holds, and an
    attribute the object lacks, go the ordinary way and fail at their own paths."""
    from schema.types.citizen import Citizen

    original = Citizen.of.__func__  # type: ignore[attr-defined]
    order = sorted(c.nik for c in world.citizens)

    def odd(cls: Any, record: Any, ctx: Any, **kwargs: Any) -> Any:  # the same rows on both paths
        citizen = original(cls, record, ctx, **kwargs)
        n = order.index(record.nik) + 1
        if citizen is not None and n % 3 == 0:
            citizen.full_name = 12345
        if citizen is not None and n % 5 == 0:
            citizen.sex = "NOT-A-SEX"
        if citizen is not None and n % 7 == 0:
            del citizen.rt
        return citizen

    monkeypatch.setattr(Citizen, "of", classmethod(odd))
    query = "{ citizens(first: 12) { edges { node { nik fullName sex rt } } } }"
    actual = await answered_alike(env, policy, query)
    names = [e["node"]["fullName"] for e in actual["data"]["citizens"]["edges"] if e["node"]]
    assert "12345" in names
    assert {tuple(e["path"][-1:]) for e in actual["errors"]} == {("sex",), ("rt",)}


async def run_with(schema: Any, env: Environment, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    ctx = Context.create(env, POPULATION_OFFICER, request_id="x", purpose="population-service")
    result = await schema.execute(query, variable_values=variables, context_value=ctx)
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [format_error(e, request_id="x") for e in result.errors]
    return body


async def test_requests_of_one_document_each_answer_with_their_own_variables(
    env: Environment, policy: Policy, world: World
) -> None:
    fast = build_role_schema(build_schema(), policy, frozenset({"population_officer"}))
    slow = build_schema(visible=fast._visible, with_mutation=False, fast_path=False)
    query = """query One($nik: String!) { citizen(nik: $nik) { nik fullName sex kelurahan { code name }
        applications { number status permitType { code } } } }"""
    first, second = world.citizens[0].nik, world.citizens[3].nik

    answer = await run_with(fast, env, query, {"nik": first})
    again = await run_with(fast, env, query, {"nik": second})

    assert answer == await run_with(slow, env, query, {"nik": first})
    assert again == await run_with(slow, env, query, {"nik": second})
    assert answer["data"]["citizen"]["nik"] == first and again["data"]["citizen"]["nik"] == second


@pytest.mark.parametrize("query", [
    pytest.param("""query Q($more: Boolean!) { citizens(first: 3) { edges { node { nik
        fullName @include(if: $more) kelurahan { name } } } } }""", id="directive-in-operation"),
    pytest.param("""query Q($more: Boolean!) { citizens(first: 3) { edges { node { nik ...F } } } }
        fragment F on Citizen { fullName @skip(if: $more) kelurahan { name } }""", id="directive-in-fragment"),
])
async def test_a_variable_that_changes_the_selection_answers_alike_on_both_paths(
    query: str, env: Environment, policy: Policy, world: World
) -> None:
    fast = build_role_schema(build_schema(), policy, frozenset({"population_officer"}))
    slow = build_schema(visible=fast._visible, with_mutation=False, fast_path=False)
    answers = []
    for more in (True, False, True):
        answer = await run_with(fast, env, query, {"more": more})
        assert answer == await run_with(slow, env, query, {"more": more})
        answers.append(answer)

    assert answers[0] != answers[1] and answers[0] == answers[2]  # the variable changed the selection
