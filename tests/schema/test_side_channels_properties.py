"""Issue 21's properties for listings, over role sets, principals and filters:

(a) every argument of every field of every role schema (nested input fields too) is
    declared (`schema.inputs.ARGUMENTS`, `FILTER_READS`), and a filter field that reads
    a field the role may not search by is absent from that role's schema;
(c) a listing's `totalCount` is the number of rows the caller may read, its pages hold
    exactly those rows, and `hasNextPage` is true only when a readable row follows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from graphql import GraphQLInputObjectType, GraphQLObjectType, GraphQLSchema, get_named_type
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auth.policy import Policy, ReachedAs
from auth.principal import Principal
from connectors.records import ApplicationRecord, CitizenRecord, ComplaintRecord
from tests.schema.harness import Execute
from tests.support.sample_world import SIDOMULYO_BARAT, SIMPANG_BARU
from schema.access import catalogue_of
from schema.build import RoleSchema
from schema.context import Context, Environment
from schema.inputs import ARGUMENTS, FILTER, FILTER_READS
from schema.search import personal_reads
from schema.types.application import Application
from schema.types.citizen import Citizen
from schema.types.complaint import Complaint
from tests.schema.test_policy_enforcement import PRINCIPALS, WORLD

ROLES = sorted(PRINCIPALS)


# -- (a) arguments ------------------------------------------------------------------------


def test_every_filter_mapping_names_real_fields(full_schema: RoleSchema) -> None:
    catalogue = catalogue_of(full_schema._schema)
    types = full_schema._schema.type_map
    for input_name, (type_name, fields) in FILTER_READS.items():
        gtype = types[input_name]
        assert isinstance(gtype, GraphQLInputObjectType)
        # every filter field has a declared read mapping, and every mapping a field
        assert set(fields) == set(gtype.fields), input_name
        for name, reads in fields.items():
            assert reads.reads and reads.reads <= catalogue[type_name], (input_name, name)


def _arguments(schema: GraphQLSchema) -> list[tuple[str, str, str, GraphQLInputObjectType | None]]:
    found = []
    for type_name, gtype in schema.type_map.items():
        if isinstance(gtype, GraphQLObjectType) and not type_name.startswith("__"):
            for field_name, field in gtype.fields.items():
                for arg_name, arg in field.args.items():
                    named = get_named_type(arg.type)
                    found.append((type_name, field_name, arg_name,
                                  named if isinstance(named, GraphQLInputObjectType) else None))
    return found


def check_role_schema(schema: GraphQLSchema, policy: Policy, roles: frozenset[str]) -> None:
    for type_name, field_name, arg_name, input_type in _arguments(schema):
        kind = ARGUMENTS.get((type_name, field_name, arg_name))
        assert kind is not None, f"{type_name}.{field_name}({arg_name}) is not declared in schema.inputs.ARGUMENTS"
        if kind != FILTER:
            assert input_type is None or input_type.name not in FILTER_READS
            continue
        assert input_type is not None and input_type.name in FILTER_READS, (field_name, arg_name)
        listed, reads = FILTER_READS[input_type.name]
        searchable = policy.searchable_fields(roles, listed)
        for name, nested in input_type.fields.items():
            assert name in reads, f"{input_type.name}.{name} has no declared read mapping"
            assert not isinstance(get_named_type(nested.type), GraphQLInputObjectType)
            assert reads[name].reads <= searchable, (sorted(roles), input_type.name, name)
            # and the role sees each field read in full: never masked, never hidden
            for field in reads[name].reads:
                assert policy.field_access(roles, listed, field).kind.name == "FULL"


@pytest.mark.parametrize("role", ROLES)
def test_no_role_schema_filters_by_a_field_the_role_may_not_search(
    role: str, policy: Policy, role_schemas: Callable[[frozenset[str]], RoleSchema]
) -> None:
    roles = frozenset({role})
    check_role_schema(role_schemas(roles)._schema, policy, roles)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(roles=st.sets(st.sampled_from(ROLES), min_size=1, max_size=3))
def test_no_role_set_schema_filters_by_a_field_it_may_not_search(
    roles: set[str], policy: Policy, role_schemas: Callable[[frozenset[str]], RoleSchema]
) -> None:
    check_role_schema(role_schemas(frozenset(roles))._schema, policy, frozenset(roles))


# -- (c) counts and pages ---------------------------------------------------------------------

LISTS = {
    "citizens": ("Citizen", "CitizenFilter", "nik"),
    "applications": ("Application", "ApplicationFilter", "number"),
    "complaints": ("Complaint", "ComplaintFilter", "number"),
}

DATES = st.dates(min_value=date(1979, 12, 1), max_value=date(2010, 1, 1))
RECEIVED = st.dates(min_value=date(2025, 5, 25), max_value=date(2025, 8, 1))
KELURAHAN = st.lists(st.sampled_from([SIMPANG_BARU, SIDOMULYO_BARAT]), min_size=1, max_size=2, unique=True)
FILTERS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "citizens": st.fixed_dictionaries({}, optional={
        "kelurahan": KELURAHAN,
        "nameContains": st.sampled_from(["Budi", "Siti", "santoso 2", "a", "Zz"]),
        "sex": st.sampled_from(["MALE", "FEMALE"]),
        "bornFrom": DATES.map(date.isoformat),
        "bornTo": DATES.map(date.isoformat),
        "familyNumber": st.sampled_from([c.family_number for c in WORLD.citizens[::3]]),
    }),
    "applications": st.fixed_dictionaries({}, optional={
        "kelurahan": KELURAHAN,
        "status": st.lists(st.sampled_from(["ISSUED", "FILE_CHECK"]), min_size=1, max_size=2, unique=True),
        "permitType": st.lists(st.sampled_from(["PBG", "IUMK"]), min_size=1, max_size=2, unique=True),
        "receivedFrom": RECEIVED.map(date.isoformat),
        "receivedTo": RECEIVED.map(date.isoformat),
        "applicantNik": st.sampled_from([a.applicant_nik for a in WORLD.applications]),
        "nameContains": st.sampled_from(["Budi", "santoso 1", "x"]),
    }),
    "complaints": st.fixed_dictionaries({}, optional={
        "kelurahan": KELURAHAN,
        "visibility": st.lists(st.sampled_from(["PUBLIC", "CONFIDENTIAL", "ANONYMOUS"]), min_size=1,
                               max_size=3, unique=True),
        "submittedFrom": RECEIVED.map(date.isoformat),
        "submittedTo": RECEIVED.map(date.isoformat),
    }),
}


def _combined(*roles: str) -> tuple[str, tuple[Principal, str | None, str | None]]:
    """A principal holding several roles, with the purpose of the first of them whose
    purpose needs no case (a case allows no listing: `schema.cases`)."""
    _, purpose, case = next(PRINCIPALS[r] for r in roles if PRINCIPALS[r][2] is None)
    principal = Principal("+".join(roles), frozenset(roles), kelurahan=SIMPANG_BARU,
                          nik=WORLD.citizens[0].nik if "citizen" in roles else None)
    return "+".join(roles), (principal, purpose, case)


COMBINED = [_combined("kelurahan_officer", "citizen"), _combined("complaint_officer", "citizen"),
            _combined("analyst", "citizen"), _combined("licensing_officer", "kelurahan_officer"),
            _combined("kelurahan_officer", "complaint_officer")]

RANGES = (("bornFrom", "bornTo"), ("receivedFrom", "receivedTo"), ("submittedFrom", "submittedTo"))


def _principals() -> st.SearchStrategy[tuple[str, Principal, str | None, str | None]]:
    def vary(item: tuple[str, tuple[Principal, str | None, str | None]], kelurahan: str, nik: str) -> Any:
        role, (principal, purpose, case) = item
        principal = Principal(principal.subject, principal.roles,
                              kelurahan=kelurahan if principal.kelurahan is not None else None,
                              nik=nik if principal.nik is not None else None)
        return role, principal, purpose, case

    return st.builds(vary, st.sampled_from(sorted(PRINCIPALS.items()) + COMBINED),
                     st.sampled_from([SIMPANG_BARU, SIDOMULYO_BARAT]),
                     st.sampled_from([c.nik for c in WORLD.citizens[:6]]))


def _matches(root: str, record: Any, flt: dict[str, Any]) -> bool:
    """The filter's meaning, written again from its documentation, over the world."""
    if "kelurahan" in flt and record.kelurahan_code not in flt["kelurahan"]:
        return False
    if root == "citizens":
        c: CitizenRecord = record
        return (("nameContains" not in flt or flt["nameContains"].lower() in c.full_name.lower())
                and ("sex" not in flt or c.sex.value == flt["sex"])
                and ("bornFrom" not in flt or c.birth_date.isoformat() >= flt["bornFrom"])
                and ("bornTo" not in flt or c.birth_date.isoformat() <= flt["bornTo"])
                and ("familyNumber" not in flt or c.family_number == flt["familyNumber"]))
    if root == "applications":
        a: ApplicationRecord = record
        received = a.received_at.date().isoformat()
        return (("status" not in flt or a.status.value in flt["status"])
                and ("permitType" not in flt or a.permit_type.code in flt["permitType"])
                and ("receivedFrom" not in flt or received >= flt["receivedFrom"])
                and ("receivedTo" not in flt or received <= flt["receivedTo"])
                and ("applicantNik" not in flt or a.applicant_nik == flt["applicantNik"])
                and ("nameContains" not in flt or flt["nameContains"].lower() in a.applicant_name.lower()))
    m: ComplaintRecord = record
    submitted = m.submitted_at.date().isoformat()
    return (("visibility" not in flt or m.visibility.value in flt["visibility"])
            and ("submittedFrom" not in flt or submitted >= flt["submittedFrom"])
            and ("submittedTo" not in flt or submitted <= flt["submittedTo"]))


def principal_scope_is_exact(env: Environment, principal: Principal, type_name: str) -> bool:
    return env.access.policy.row_scope(principal, type_name).exact


async def _readable(env: Environment, principal: Principal, root: str) -> list[Any]:
    """The world's records the principal may read through the root listing, by the
    policy's own per-record decision (not its push-down)."""
    ctx = Context.create(env, principal, request_id="oracle")
    records: dict[str, tuple[list[Any], Callable[..., Any]]] = {
        "citizens": (WORLD.citizens, Citizen.of),
        "applications": (WORLD.applications, Application.of),
        "complaints": (WORLD.complaints, Complaint.of),
    }
    rows, present = records[root]
    return [r for r in rows if present(r, ctx, reached_as=ReachedAs.ROOT) is not None]


async def _walk(execute: Execute, root: str, flt: dict[str, Any], principal: Principal,
                purpose: str | None, case: str | None, first: int) -> tuple[Any, list[str], list[dict]]:
    _, input_type, key = LISTS[root]
    query = f"""query($f: {input_type}, $first: Int, $after: String) {{
      {root}(filter: $f, first: $first, after: $after) {{
        totalCount edges {{ node {{ {key} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
    seen: list[str] = []
    after = None
    total = None
    errors: list[dict] = []
    for _ in range(50):
        body = await execute(query, {"f": flt, "first": first, "after": after}, principal=principal,
                             purpose=purpose, case=case)
        errors = body.get("errors", [])
        listing = (body["data"] or {}).get(root)
        if listing is None:
            return None, seen, errors
        total = listing["totalCount"] if total is None else total
        assert listing["totalCount"] == total
        page = [edge["node"][key] for edge in listing["edges"]]
        if after is not None:
            assert page, "hasNextPage was true, yet no readable row followed"
        seen += page
        if not listing["pageInfo"]["hasNextPage"]:
            return total, seen, errors
        after = listing["pageInfo"]["endCursor"]
    raise AssertionError("the walk did not end")


@pytest.mark.parametrize("root", sorted(LISTS))
def test_counts_and_pages_hold_exactly_the_rows_the_caller_may_read(
    root: str, execute: Execute, env: Environment, role_schemas: Callable[[frozenset[str]], RoleSchema]
) -> None:
    type_name, input_type, key = LISTS[root]

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(who=_principals(), data=st.data(), first=st.integers(min_value=1, max_value=4))
    def run(who: tuple[str, Principal, str | None, str | None], data: st.DataObject, first: int) -> None:
        role, principal, purpose, _ = who  # no case: a case allows no listing (schema.cases)
        case = None
        schema = role_schemas(principal.roles)._schema
        query_type = schema.query_type
        assert query_type is not None
        if root not in query_type.fields:
            return  # the role has no such listing
        offered = schema.type_map[input_type]
        assert isinstance(offered, GraphQLInputObjectType)
        flt = {k: v for k, v in data.draw(FILTERS[root]).items() if k in offered.fields}
        total, seen, errors = asyncio.run(_walk(execute, root, flt, principal, purpose, case, first))
        inverted = any(flt.get(a, "") > flt.get(b, "9") for a, b in RANGES)
        if inverted:  # refused as bad input, or before that for want of a purpose's case
            refusal = [e["extensions"]["code"] for e in errors]
            assert refusal == ["BAD_USER_INPUT"] or (refusal == ["PURPOSE_REQUIRED"]
                                                     and personal_reads(input_type, list(flt))), errors
            return
        if total is None:  # refused, with no count and no row: only for a reason that says why
            refusal = [e["extensions"]["code"] for e in errors]
            if refusal == ["FORBIDDEN"]:  # the source cannot apply the roles' rows exactly
                assert len(principal.roles) > 1 and not principal_scope_is_exact(env, principal, type_name)
            else:  # a search by personal data under a purpose that needs a case (never a list)
                assert refusal == ["PURPOSE_REQUIRED"], errors
                assert personal_reads(input_type, list(flt)), (flt, errors)
            return
        assert not errors, errors
        readable = asyncio.run(_readable(env, principal, root))
        expected = sorted(getattr(r, key) for r in readable if _matches(root, r, flt))
        assert total == len(expected)
        assert sorted(seen) == expected
        assert len(seen) == len(set(seen))

    run()
