"""A field hidden from a role says so ("not available to your role") in the same words
as a field that no role has: for every role, every field of the full schema missing
from the role's own schema, on every type the role has, is answered alike, and the
suggestions name only what the role's schema holds (its SDL is all it may know)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from graphql import GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

from auth.policy import Policy
from auth.principal import Principal
from schema.build import RoleSchema
from tests.schema.harness import Execute

ROLES = ["population_officer", "kelurahan_officer", "licensing_officer", "complaint_officer", "analyst",
         "auditor", "citizen", "operator", "anonymous"]
TOLD = "no such field is available to your role."


def _claims(role: str) -> dict[str, str]:
    return {"kelurahan": "1471081001"} if role == "kelurahan_officer" else (
        {"nik": "1471080101800001"} if role == "citizen" else {})


def _suggested(message: str) -> set[str]:
    match = re.search(r"Did you mean (.*)\?$", message)
    return set(re.findall(r"'([^']*)'", match.group(1))) if match else set()


async def _message(execute: Execute, principal: Principal, type_name: str, field: str) -> str:
    """The error for selecting `field` on `type_name` (in a fragment: any type can be named there)."""
    body = await execute(f"query Q {{ __typename ...F }} fragment F on Query {{ __typename }} "
                         f"fragment G on {type_name} {{ {field} }}", principal=principal, purpose=None)
    messages = [e["message"] for e in body["errors"] if e["message"].startswith("Cannot query field")]
    assert len(messages) == 1, body["errors"]
    return messages[0]


@pytest.mark.parametrize("role", ROLES)
async def test_a_hidden_field_is_not_available_to_the_role_in_the_words_of_a_field_no_role_has(
    role: str, execute: Execute, full_schema: RoleSchema, role_schemas: Callable[[frozenset[str]], RoleSchema],
    policy: Policy,
) -> None:
    principal = Principal(f"t-{role}", frozenset({role}), **_claims(role))  # type: ignore[arg-type]
    own = role_schemas(principal.roles)._schema
    checked = 0
    for name, full_type in full_schema._schema.type_map.items():
        own_type = own.type_map.get(name)
        if name.startswith("__") or not isinstance(own_type, GraphQLObjectType | GraphQLInterfaceType):
            continue
        assert isinstance(full_type, GraphQLObjectType | GraphQLInterfaceType)
        hidden = sorted(set(full_type.fields) - set(own_type.fields))
        for field in [*hidden, "noSuchFieldAnywhere"]:
            message = await _message(execute, principal, name, field)
            expected = f"Cannot query field '{field}' on type '{name}': {TOLD}"
            assert message.split(" Did you mean")[0] == expected, message
            assert _suggested(message) <= set(own_type.fields), (role, name, message)
            checked += 1
    assert checked > 0
    if role in ("analyst", "licensing_officer", "citizen", "kelurahan_officer"):
        assert checked > len(own.type_map) // 4  # these roles do lose fields


async def test_hidden_arguments_types_and_input_fields_are_not_available_either(execute: Execute) -> None:
    analyst = Principal("t-analyst", frozenset({"analyst"}))
    body = await execute('{ applications(filter: {applicantNik: "1471080101800001"}) { totalCount } }',
                         principal=analyst, purpose=None)
    assert "not to include unknown field 'applicantNik' (no such input field is available to your role)" in \
        body["errors"][0]["message"], body["errors"]
    body = await execute("query($f: ApplicationFilter) { applications(filter: $f) { totalCount } }",
                         {"f": {"applicantNik": "1471080101800001"}}, principal=analyst, purpose="statistics")
    assert "unknown field 'applicantNik' (no such input field is available to your role)" in \
        body["errors"][0]["message"], body["errors"]
    auditor = Principal("t-auditor", frozenset({"auditor"}))
    body = await execute("query Q { __typename } fragment F on Citizen { nik }", principal=auditor, purpose=None)
    assert any(e["message"].startswith("Unknown type 'Citizen': no such type is available to your role.")
               for e in body["errors"]), body["errors"]
    body = await execute('{ me { subject(x: 1) } }', principal=auditor, purpose=None)
    assert body["errors"][0]["message"].startswith(
        "Unknown argument 'x' on field 'Principal.subject': no such argument is available to your role.")


def test_input_types_hide_fields_too(full_schema: RoleSchema, role_schemas: Callable[[frozenset[str]], RoleSchema]) -> None:
    """(The premise of the input-field case above.)"""
    own = role_schemas(frozenset({"analyst"}))._schema.type_map["ApplicationFilter"]
    full = full_schema._schema.type_map["ApplicationFilter"]
    assert isinstance(own, GraphQLInputObjectType) and isinstance(full, GraphQLInputObjectType)
    assert "applicantNik" in full.fields and "applicantNik" not in own.fields
