"""The fast executor answers exactly as graphql-core's own execution, on every role's
schema: for documents hypothesis-graphql draws from the role's schema (their argument
values as literals or as variables, string arguments often real keys), principals with
other claims, purposes and cases, and sample worlds with records missing, both give the
same `data`, the same errors (message, path, extensions, in the same order) and the same
ledger entries. 9 roles × 225 examples, derandomized so that CI runs the same examples."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from graphql import (
    ArgumentNode,
    DocumentNode,
    BooleanValueNode,
    EnumValueNode,
    FloatValueNode,
    GraphQLID,
    GraphQLSchema,
    GraphQLString,
    IntValueNode,
    NameNode,
    NullValueNode,
    ObjectFieldNode,
    OperationDefinitionNode,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    get_named_type,
    is_non_null_type,
    parse_type,
    print_ast,
    value_from_ast_untyped,
    visit,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries

from auth.policy import Policy
from auth.principal import Principal
from tests.schema.harness import MemoryLedger
from tests.support.sample_world import SIDOMULYO_BARAT, SIMPANG_BARU, World
from schema.build import RoleSchema, build_schema
from schema.context import Context, Environment
from schema.errors import format_error
from schema.execution import FastPlainExecutionContext
from schema.sources import Sources
from tests.schema.test_policy_enforcement import PRINCIPALS, WORLD
from tests.schema.test_policy_fuzz import SCALARS

EXAMPLES_PER_ROLE = 225  # × 9 roles: over 2,000 in every run
NIKS = [c.nik for c in WORLD.citizens]
NUMBERS = [a.number for a in WORLD.applications] + [c.number for c in WORLD.complaints] + sorted(
    {c.family_number for c in WORLD.citizens})
#: real values for string arguments, by the argument's name (else any of them)
KEYS = {"nik": NIKS, "number": NUMBERS, "kelurahan": [SIMPANG_BARU, SIDOMULYO_BARAT, "1471081002"]}
ANY_KEY = [*NIKS, *NUMBERS, SIMPANG_BARU, "PBG", "IUMK", "Budi", "Infrastruktur"]
LITERALS = (StringValueNode, EnumValueNode, IntValueNode, FloatValueNode, BooleanValueNode, NullValueNode)
CASES = [a.number for a in WORLD.applications] + [c.number for c in WORLD.complaints]


def _standard_twin(fast: RoleSchema, policy: Policy, roles: frozenset[str]) -> RoleSchema:
    """The role's schema on graphql-core's standard execution."""
    return build_schema(visible=fast._visible, with_mutation=fast._schema.mutation_type is not None,
                        with_subscription=fast._schema.subscription_type is not None,
                        limits=policy.limits(roles), fast_path=False)


@st.composite
def principals(draw: st.DrawFn, role: str) -> tuple[Principal, str | None, str | None]:
    """The role's principal with other claims (another NIK, another kelurahan), and its
    purpose and case kept, dropped or swapped."""
    principal, purpose, case = PRINCIPALS[role]
    if principal.nik is not None:
        principal = dataclasses.replace(principal, nik=draw(st.sampled_from([c.nik for c in WORLD.citizens])))
    if principal.kelurahan is not None:
        principal = dataclasses.replace(principal, kelurahan=draw(st.sampled_from([SIMPANG_BARU, SIDOMULYO_BARAT])))
    purpose = draw(st.sampled_from([purpose] * 6 + [None, "statistics"]))
    case = draw(st.one_of(st.just(case), st.sampled_from([None, *CASES])))
    return principal, purpose, case


@st.composite
def worlds(draw: st.DrawFn) -> World:
    """The sample world, with some records missing (links that lead nowhere)."""
    def some(records: list[Any]) -> list[Any]:
        gone = draw(st.sets(st.integers(0, len(records) - 1), max_size=len(records) // 3))
        return [r for i, r in enumerate(records) if i not in gone]

    return World(some(WORLD.citizens), some(WORLD.applications), some(WORLD.complaints))


def with_keys_and_variables(document: DocumentNode, schema: GraphQLSchema, keys: list[int], sizes: list[int],
                            as_variables: bool) -> tuple[str, dict[str, Any]]:
    """The document with its arguments made likely to reach records (string arguments
    and input fields set to real keys of the kind the name says, picked by `keys` in
    turn, not random text; `first` to `sizes` in
    turn; no random cursor), and, when `as_variables`, every scalar or enum argument
    moved into a variable of the argument's own type."""
    type_info = TypeInfo(schema)
    definitions: list[VariableDefinitionNode] = []
    values: dict[str, Any] = {}
    turn = iter(range(1 << 30))

    def plausible(name: str, value: ValueNode, input_type: Any) -> ValueNode:
        if name in ("after", "before") and not is_non_null_type(input_type):
            return NullValueNode()
        if name == "first" and sizes and isinstance(value, IntValueNode):
            return IntValueNode(value=str(sizes[next(turn) % len(sizes)]))
        if isinstance(value, StringValueNode) and keys and get_named_type(input_type) in (GraphQLString, GraphQLID):
            kind = "nik" if name.lower().endswith("nik") else name
            pool = KEYS.get(kind, ANY_KEY)
            return StringValueNode(value=pool[keys[next(turn) % len(keys)] % len(pool)])
        return value

    class Lift(Visitor):
        def leave_object_field(self, node: ObjectFieldNode, *_: Any) -> ObjectFieldNode | None:
            input_type = type_info.get_input_type()
            if input_type is None:
                return None
            return ObjectFieldNode(name=node.name, value=plausible(node.name.value, node.value, input_type))

        def leave_argument(self, node: ArgumentNode, *_: Any) -> ArgumentNode | None:
            argument = type_info.get_argument()
            if argument is None:
                return None
            value = plausible(node.name.value, node.value, argument.type)
            if not as_variables or not isinstance(value, LITERALS):
                return ArgumentNode(name=node.name, value=value)
            name = f"v{len(values)}"
            values[name] = value_from_ast_untyped(value)
            variable = VariableNode(name=NameNode(value=name))
            definitions.append(VariableDefinitionNode(variable=variable, type=parse_type(str(argument.type)),
                                                      directives=()))
            return ArgumentNode(name=node.name, value=variable)

        def leave_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> OperationDefinitionNode:
            return OperationDefinitionNode(operation=node.operation, name=node.name, directives=node.directives,
                                           variable_definitions=tuple(definitions), selection_set=node.selection_set)

    lifted = visit(document, TypeInfoVisitor(type_info, Lift()))
    return print_ast(lifted), values


async def answer(schema: RoleSchema, env: Environment, world: World, query: str, variables: dict[str, Any],
                 who: tuple[Principal, str | None, str | None]) -> dict[str, Any]:
    """What a request answers and what it writes to the ledger (fresh sources and ledger)."""
    ledger = MemoryLedger()
    env = dataclasses.replace(env, sources=Sources(*world.sources()), ledger=ledger)
    principal, purpose, case = who
    ctx = Context.create(env, principal, request_id="diff", purpose=purpose, case=case)
    result = await schema.execute(query, variable_values=variables, context_value=ctx)
    return {
        "data": result.data,
        "errors": [format_error(e, request_id="diff") for e in result.errors or ()],
        "ledger": [dataclasses.asdict(d) for d in ledger.drafts],
    }


@pytest.mark.parametrize("role", sorted(PRINCIPALS))
def test_the_fast_path_answers_exactly_as_graphql_cores_own_execution(
    role: str, env: Environment, policy: Policy, role_schemas: Callable[[frozenset[str]], RoleSchema]
) -> None:
    roles = PRINCIPALS[role][0].roles
    fast = role_schemas(roles)
    standard = _standard_twin(fast, policy, roles)
    assert fast.execution_context_class is FastPlainExecutionContext
    assert standard.execution_context_class is not FastPlainExecutionContext

    @settings(max_examples=EXAMPLES_PER_ROLE, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(
        document=queries(fast._schema, custom_scalars=SCALARS, print_ast=lambda d: d),
        keys=st.lists(st.integers(0, 99), min_size=1, max_size=6),
        sizes=st.lists(st.sampled_from([0, 1, 2, 5, 20, 101]), min_size=1, max_size=3),
        as_variables=st.booleans(),
        who=principals(role),
        world=worlds(),
    )
    def differential(document: DocumentNode, keys: list[int], sizes: list[int], as_variables: bool,
                     who: tuple[Principal, str | None, str | None], world: World) -> None:
        query, variables = with_keys_and_variables(document, fast._schema, keys, sizes, as_variables)

        async def both() -> tuple[dict[str, Any], dict[str, Any]]:
            return (await answer(standard, env, world, query, variables, who),
                    await answer(fast, env, world, query, variables, who))

        expected, actual = asyncio.run(both())
        assert actual == expected, (query, variables)
        assert repr(actual) == repr(expected), (query, variables)  # the same key order too

    differential()
