"""Issue 21, property (b): no cursor, error message or extension of any response holds a
16-digit number (a NIK or a family card number) unless the same response shows that
number as a field's value the role may read unmasked.

Random valid queries (hypothesis-graphql) from each role's own schema, for several
principals per role, with real keys and real cursors of the sample world in their
string arguments, while a source may be failing with a message that quotes keys. The
check reads the raw response text and decodes nothing. "May read unmasked" is taken
from the policy file, not from the loaded policy under test: a role whose file masks or
hides NIKs anywhere is shown no NIK in full (its own token's claim in `me` aside).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Any

from graphql import StringValueNode, Visitor, parse, print_ast, visit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries

from auth.kinds import ValueKind
from auth.principal import Principal
from connectors.errors import SourceUnavailable
from tests.schema.harness import Execute
from schema.build import RoleSchema
from schema.context import Environment
from schema.sources import Sources
from tests.support.sample_world import SIDOMULYO_BARAT
from tests.schema.test_policy_enforcement import PRINCIPALS, WORLD, allowed_values, check
from tests.schema.test_policy_fuzz import SCALARS, with_typenames
from tests.schema.test_side_channels_values import _file_says, _scalars

SIXTEEN_DIGITS = re.compile(r"(?<!\d)\d{16}(?!\d)")
CURSOR_FIELDS = frozenset({"cursor", "startCursor", "endCursor"})
KEYS = sorted({c.nik for c in WORLD.citizens} | {c.family_number for c in WORLD.citizens}) + [
    a.number for a in WORLD.applications
] + [c.number for c in WORLD.complaints]

Caller = tuple[str, Principal, str | None, str | None]
CALLERS: list[Caller] = [(role, *PRINCIPALS[role]) for role in sorted(PRINCIPALS)] + [
    ("kelurahan_officer", Principal("k2", frozenset({"kelurahan_officer"}), kelurahan=SIDOMULYO_BARAT),
     "population-service", None),
    ("citizen", Principal("w2", frozenset({"citizen"}), nik=WORLD.citizens[4].nik), "self-service", None),
    ("citizen", Principal("w3", frozenset({"citizen"}), nik="1471084101010001"), "self-service", None),  # no record
    ("licensing_officer", Principal("l2", frozenset({"licensing_officer"}), nik=WORLD.citizens[3].nik),
     "permit-verification", WORLD.applications[1].number),
]
CURSOR_QUERIES = [
    "{ citizens(first: 2) { edges { cursor } pageInfo { startCursor endCursor } } }",
    "{ applications(first: 2) { edges { cursor } pageInfo { startCursor endCursor } } }",
    "{ complaints(first: 2) { edges { cursor } pageInfo { startCursor endCursor } } }",
]


def shown_in_full(node: Any, found: set[str]) -> set[str]:
    """The 16-digit values of the data's fields (cursors aside)."""
    if isinstance(node, list):
        for item in node:
            shown_in_full(item, found)
    elif isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, (dict, list)):
                shown_in_full(value, found)
            elif isinstance(value, str) and key not in CURSOR_FIELDS and SIXTEEN_DIGITS.fullmatch(value):
                found.add(value)
    return found


def disclosed(body: dict[str, Any]) -> list[str]:
    """16-digit numbers in the raw response text that no field of it shows."""
    shown = shown_in_full(body.get("data"), set())
    text = json.dumps({k: body[k] for k in ("data", "errors", "extensions") if k in body})
    return sorted({number for number in SIXTEEN_DIGITS.findall(text) if number not in shown})


def nik_mask_applies(role: str) -> bool:
    return any(_file_says(role, ValueKind.NIK))


def full_niks(body: dict[str, Any], principal: Principal) -> list[str]:
    """Sample NIKs shown in full in the data (the caller's own claim in `me` aside)."""
    niks = {c.nik for c in WORLD.citizens}
    return sorted(
        f"{type_name}.{field} = {value}"
        for type_name, field, value in _scalars(body.get("data"))
        if value in niks and not (type_name == "Principal" and field == "nik" and value == principal.nik)
    )


FAILURE = "HTTP 500: data {} dan {} tidak terbaca".format(WORLD.citizens[0].nik, WORLD.citizens[0].family_number)


def test_the_check_sees_a_number_in_an_error_or_a_cursor_and_passes_a_shown_one() -> None:
    nik = WORLD.citizens[0].nik
    assert disclosed({"data": {"citizen": {"nik": nik}}, "errors": [{"message": f"no {nik}"}]}) == []
    assert disclosed({"data": None, "errors": [{"message": f"no {nik}"}]}) == [nik]
    assert disclosed({"data": {"x": {"cursor": f"c{nik}"}}}) == [nik]
    assert disclosed({"data": None, "extensions": {"sources": [{"detail": nik}]}}) == [nik]


def with_arguments(query: str, draw: Callable[[Any], Any], pool: list[str]) -> str:
    """The query with each string argument replaced by a drawn real key or cursor (or kept)."""

    class Replace(Visitor):
        def enter_string_value(self, node: StringValueNode, *_: object) -> StringValueNode:
            return StringValueNode(value=draw(st.sampled_from([node.value, *pool])))

    return print_ast(visit(parse(query), Replace()))


def test_no_response_discloses_a_sixteen_digit_number_it_does_not_show(
    execute: Execute, env: Environment, sources: Sources, role_schemas: Callable[[frozenset[str]], RoleSchema]
) -> None:
    strategies = {role: queries(role_schemas(frozenset({role}))._schema, custom_scalars=SCALARS)
                  for role in PRINCIPALS}
    cursors: list[str] = []
    for role, principal, purpose, case in CALLERS[:3]:
        for query in CURSOR_QUERIES:
            body = asyncio.run(execute(query, principal=principal, purpose=purpose, case=case))
            cursors += [c for c in re.findall(r'"([A-Za-z0-9_\-=]{8,})"', json.dumps(body["data"]))]
    pool = KEYS + sorted(set(cursors))
    allowed = {id(caller): allowed_values(env, caller[1]) for caller in CALLERS}
    seen = {"answered": 0}

    async def run(caller: Caller, query: str) -> None:
        role, principal, purpose, case = caller
        body = await execute(with_typenames(query), principal=principal, purpose=purpose, case=case)
        leaks: list[str] = []
        check(body["data"], allowed[id(caller)], leaks)  # every value shown is the role's to see
        if nik_mask_applies(role):
            leaks += full_niks(body, principal)
        assert not leaks, (role, query, leaks)
        assert not disclosed(body), (role, query, disclosed(body), body)
        seen["answered"] += body["data"] is not None
        seen["errors"] = seen.get("errors", 0) + len(body.get("errors", []))

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def prop(data: st.DataObject) -> None:
        caller = data.draw(st.sampled_from(CALLERS))
        query = data.draw(strategies[caller[0]])
        failing = data.draw(st.sampled_from([None, None, sources.population, sources.licensing, sources.complaints]))
        if failing is not None:
            failing.failure = SourceUnavailable(failing.source_id, FAILURE)  # type: ignore[attr-defined]
        try:
            asyncio.run(run(caller, with_arguments(query, data.draw, pool)))
        finally:
            if failing is not None:
                failing.failure = None  # type: ignore[attr-defined]

    prop()
    assert seen["answered"] and seen.get("errors"), f"the property would prove nothing: {seen}"
