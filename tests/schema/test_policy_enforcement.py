"""Every role × every type × every field, generated from the schema, never hand-listed.

1. Each role's schema holds exactly the fields the policy lets it see.
2. For every role, a query selecting every visible field (through links, aliases and
   inline fragments) is run for every record of the sample world. Every value that
   comes back must be one the policy allows that role to see for some record of that
   type, in some way the role may reach it (full or with its mask) — a raw NIK where
   only a masked one is allowed, or any value of a field the role may not see, fails.
"""

from __future__ import annotations

import enum
import itertools
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import pytest
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, get_named_type

from auth.policy import AccessKind, Policy, ReachedAs
from auth.principal import ANONYMOUS, Principal
from tests.schema.harness import Execute
from schema.access import catalogue_of, visible_pairs
from schema.build import RoleSchema
from schema.context import Context, Environment
from schema.types.application import Application
from schema.types.citizen import Citizen
from schema.types.complaint import Complaint
from tests.support.sample_world import SIMPANG_BARU, World, build_world

WORLD = build_world()
CITIZEN_NIK = WORLD.citizens[0].nik

PRINCIPALS: dict[str, tuple[Principal, str | None, str | None]] = {
    "population_officer": (Principal("p1", frozenset({"population_officer"})), "population-service", None),
    "kelurahan_officer": (
        Principal("k1", frozenset({"kelurahan_officer"}), kelurahan=SIMPANG_BARU), "population-service", None,
    ),
    "licensing_officer": (
        Principal("l1", frozenset({"licensing_officer"})), "permit-verification", "503/DPMPTSP/2025/000001-X0",
    ),
    "complaint_officer": (
        Principal("c1", frozenset({"complaint_officer"})), "complaint-follow-up", "LPR-2025-0000Q",
    ),
    "analyst": (Principal("a1", frozenset({"analyst"})), "statistics", None),
    "auditor": (Principal("au1", frozenset({"auditor"})), "audit", None),
    "citizen": (Principal("w1", frozenset({"citizen"}), nik=CITIZEN_NIK), "self-service", None),
    "operator": (Principal("o1", frozenset({"operator"})), None, None),
    "anonymous": (ANONYMOUS, None, None),
}

GOVERNED_RECORDS = ("Citizen", "Application", "Complaint")
MAX_DEPTH = 4
SKIPPED_ROOTS = {  # no governed records in these; they have their own tests
    "sources", "myAccessLog", "accessLedger", "satisfactionIndex", "serviceMetrics", "performanceReport",
}


def test_every_role_is_exercised(policy: Policy) -> None:
    assert set(PRINCIPALS) == set(policy.roles)


@pytest.mark.parametrize("role", sorted(PRINCIPALS))
def test_a_roles_schema_holds_exactly_the_fields_its_policy_allows(
    role: str, policy: Policy, full_schema: RoleSchema, role_schemas: Callable[[frozenset[str]], RoleSchema]
) -> None:
    roles = frozenset({role})
    expected = visible_pairs(policy, roles, full_schema._schema)
    actual = {(t, f) for t, fields in catalogue_of(role_schemas(roles)._schema).items() for f in fields}
    # types the role cannot reach at all are not in its schema; the rest match exactly
    reached = {t for t, _ in actual}
    assert actual == {(t, f) for t, f in expected if t in reached}
    for type_name in policy.governed_types:
        for field_name in catalogue_of(full_schema._schema).get(type_name, ()):
            if (type_name, field_name) in actual:
                assert policy.field_access(roles, type_name, field_name).visible
    # never a field of a type the policy shows nothing of
    for type_name, field_name in actual:
        if type_name in policy.governed_types:
            assert field_name in policy.visible_fields(roles, type_name)


# -- the value oracle ------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def allowed_values(env: Environment, principal: Principal) -> dict[tuple[str, str], set[Any]]:
    """(type, field) -> every scalar value the principal may ever be shown there."""
    ctx = Context.create(env, principal, request_id="oracle")
    if principal.nik:
        own = next((c for c in WORLD.citizens if c.nik == principal.nik), None)
        ctx.presenter.family_number = own.family_number if own else None
    allowed: dict[tuple[str, str], set[Any]] = {}
    complaints_by_reporter = {c.reporter_nik: c for c in WORLD.complaints}
    cases: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for c in WORLD.citizens:
        facts = {"nik": c.nik, "kelurahan_code": c.kelurahan_code, "family_number": c.family_number}
        if c.nik in complaints_by_reporter:
            facts["visibility"] = complaints_by_reporter[c.nik].visibility.value
        cases.append(("Citizen", facts, Citizen.values(c, ctx)))
    for a in WORLD.applications:
        cases.append(("Application", {"applicant_nik": a.applicant_nik, "kelurahan_code": a.kelurahan_code},
                      Application.values(a, ctx)))
    for m in WORLD.complaints:
        cases.append(("Complaint", {"reporter_nik": m.reporter_nik, "kelurahan_code": m.kelurahan_code,
                                    "visibility": m.visibility.value}, Complaint.values(m, ctx)))
    for (type_name, facts, values), reached in itertools.product(cases, ReachedAs):
        shaped = ctx.presenter.shape(type_name, dict(facts), dict(values), reached_as=reached)
        if shaped is None:
            continue
        for attr, value in shaped.values.items():
            name = "".join(p if i == 0 else p.title() for i, p in enumerate(attr.split("_")))
            if value is None or isinstance(value, (list, tuple)):
                continue
            if not isinstance(value, enum.Enum) and hasattr(value, "__strawberry_definition__"):
                continue  # a nested object: its own fields are checked as their own type
            allowed.setdefault((type_name, name), set()).add(_plain(value))
    return allowed


# -- query generation ----------------------------------------------------------------


def _unwrap(gtype: Any) -> Any:
    while isinstance(gtype, (GraphQLNonNull, GraphQLList)):
        gtype = gtype.of_type
    return gtype


def selection(schema: GraphQLSchema, type_name: str, depth: int, max_depth: int = MAX_DEPTH) -> str:
    gtype = schema.type_map[type_name]
    assert isinstance(gtype, GraphQLObjectType)
    parts = ["__typename"]
    for name, field in gtype.fields.items():
        if any(isinstance(a.type, GraphQLNonNull) for a in field.args.values()):
            continue
        target = _unwrap(field.type)
        if isinstance(target, GraphQLObjectType):
            if depth >= max_depth:
                continue
            inner = selection(schema, target.name, depth + 1, max_depth)
            parts.append(f"{name} {{ ... on {target.name} {{ {inner} }} }}")
        elif depth == 1:  # aliases on the first level (a document may hold 30 at most)
            parts.append(f"x_{name}: {name}")
        else:
            parts.append(name)
    return " ".join(parts)


ARGUMENTS: dict[str, Callable[[], list[str]]] = {
    "citizen": lambda: [f'nik: "{c.nik}"' for c in WORLD.citizens],
    "family": lambda: [f'number: "{n}"' for n in sorted({c.family_number for c in WORLD.citizens})],
    "application": lambda: [f'number: "{a.number}"' for a in WORLD.applications],
    "trackApplication": lambda: [f'number: "{a.number}"' for a in WORLD.applications],
    "complaint": lambda: [f'number: "{c.number}"' for c in WORLD.complaints],
    "trackComplaint": lambda: [f'number: "{c.number}"' for c in WORLD.complaints],
    "verifyCitizen": lambda: [f'nik: "{c.nik}", fullName: "{c.full_name}", birthDate: "{c.birth_date}"'
                              for c in WORLD.citizens[:3]],
}


def queries(schema: GraphQLSchema, max_depth: int = MAX_DEPTH) -> Iterator[str]:
    query_type = schema.query_type
    assert query_type is not None
    for name, field in query_type.fields.items():
        if name in SKIPPED_ROOTS:
            continue
        target = _unwrap(field.type)
        body = selection(schema, target.name, 1, max_depth) if isinstance(target, GraphQLObjectType) else ""
        inner = f"{{ ... on {target.name} {{ {body} }} }}" if body else ""
        if name in ARGUMENTS:
            for args in ARGUMENTS[name]():
                yield f"{{ r: {name}({args}) {inner} }}"
        elif "first" in field.args:
            yield f"{{ r: {name}(first: 100) {inner} }}"
        else:
            yield f"{{ r: {name} {inner} }}"


def check(node: Any, allowed: dict[tuple[str, str], set[Any]], found: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            check(item, allowed, found)
        return
    if not isinstance(node, dict):
        return
    type_name = node.get("__typename")
    for key, value in node.items():
        if key == "__typename":
            continue
        field = key[2:] if key.startswith("x_") else key
        if type_name in GOVERNED_RECORDS and value is not None and not isinstance(value, (dict, list)):
            if value not in allowed.get((type_name, field), set()):
                found.append(f"{type_name}.{field} = {value!r}")
        check(value, allowed, found)


def case_of(query: str, case: str | None) -> str | None:
    """Under a case-bound purpose, the case of the record the query names, so the walk
    reads every record under its own case; a listing or a record of no case keeps the
    role's case and is refused (PURPOSE_REQUIRED, see test_side_channels_cases.py)."""
    if case is None:
        return None
    named = re.search(r'number: "([^"]+)"', query)
    if named:
        return named.group(1)
    nik = re.search(r'nik: "([0-9]{16})"', query)
    applied = nik and next((a.number for a in WORLD.applications if a.applicant_nik == nik.group(1)), None)
    return applied or case


@pytest.mark.parametrize("role", sorted(PRINCIPALS))
async def test_no_role_ever_receives_a_value_its_policy_withholds(
    role: str, execute: Execute, env: Environment, role_schemas: Callable[[frozenset[str]], RoleSchema]
) -> None:
    principal, purpose, case = PRINCIPALS[role]
    schema = role_schemas(principal.roles)._schema
    allowed = allowed_values(env, principal)
    violations: list[str] = []
    returned = 0
    # the deepest selection the role's query-cost limit admits, root field by root field
    by_depth = [list(queries(schema, depth)) for depth in range(MAX_DEPTH, 0, -1)]
    for variants in zip(*by_depth, strict=True):
        for query in variants:
            body = await execute(query, principal=principal, purpose=purpose, case=case_of(query, case))
            codes = {e["extensions"]["code"] for e in body.get("errors", [])}
            if "QUERY_TOO_COMPLEX" not in codes:
                break
        expected = {"FORBIDDEN", "NOT_FOUND"} | ({"PURPOSE_REQUIRED"} if case else set())
        for error in body.get("errors", []):
            assert error["extensions"]["code"] in expected, (query, error)
        check(body["data"], allowed, violations)
        returned += body["data"] is not None and body["data"]["r"] is not None
    assert not violations, violations[:10]
    if role not in {"operator", "auditor"}:
        assert returned, "the role was shown nothing at all: the test would prove nothing"


async def test_the_oracle_catches_a_raw_nik_where_only_a_masked_one_is_allowed(env: Environment) -> None:
    principal, _, _ = PRINCIPALS["licensing_officer"]
    allowed = allowed_values(env, principal)
    raw = WORLD.applications[0].applicant_nik
    found: list[str] = []
    check({"__typename": "Citizen", "x_nik": raw}, allowed, found)
    assert found == [f"Citizen.nik = {raw!r}"]
    masked = raw[:6] + "******" + raw[-4:]
    found.clear()
    check({"__typename": "Citizen", "x_nik": masked}, allowed, found)
    assert found == []


def test_a_kelurahan_officer_never_sees_religion_blood_type_or_disability(policy: Policy) -> None:
    roles = frozenset({"kelurahan_officer"})
    for field in ("religion", "bloodType", "disability"):
        assert policy.field_access(roles, "Citizen", field).kind is AccessKind.DENIED
