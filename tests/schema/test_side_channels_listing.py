"""Issue 21, classes 1 and 2, tried as an attacker would: what a role may not see, it
may not search, count, page past, look up to learn it exists, or decode from a cursor.

Each test names the side channel it closes; each would pass on the code before issue
21 only by the channel being open (filters absent from no schema, searches without a
purpose or ledger entry, unknown keys answered apart from unreadable ones, cursors that
are base64 JSON carrying a NIK)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
import yaml

from auth.policy import DEFAULT_POLICY_FILE, Policy, parse_policy
from auth.principal import Principal
from auth.purposes import load_purposes
from connectors.records import CitizenFilter, Page, PageRequest
from tests.schema.harness import Execute, MemoryLedger
from tests.support.sample_world import SIDOMULYO_BARAT, SIMPANG_BARU, World
from schema.access import AccessControl, catalogue_of
from schema.build import RoleSchema, build_role_schema
from schema.context import Context, Environment
from schema.errors import format_error
from schema.value_kinds import value_kinds
from tests.schema.test_policy_enforcement import PRINCIPALS

KELURAHAN_OFFICER = PRINCIPALS["kelurahan_officer"][0]
LICENSING = PRINCIPALS["licensing_officer"]
ANALYST = PRINCIPALS["analyst"][0]
CITIZEN = PRINCIPALS["citizen"][0]
POPULATION = PRINCIPALS["population_officer"][0]

COUNT_CITIZENS = "query($f: CitizenFilter) { citizens(filter: $f) { totalCount } }"
LIST_CITIZENS = """query($f: CitizenFilter, $first: Int, $after: String) {
  citizens(filter: $f, first: $first, after: $after) {
    totalCount edges { cursor node { nik } } pageInfo { hasNextPage endCursor }
  }
}"""
APPLICATION_NUMBERS = """query($f: ApplicationFilter, $after: String) {
  applications(filter: $f, first: 2, after: $after) { edges { node { number } } pageInfo { endCursor } }
}"""


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


def answer(body: dict[str, Any]) -> tuple[Any, list[tuple[str, str, Any]]]:
    """What a caller can tell two answers apart by: data, and each error's code,
    message and path (not the trace, whose timings differ)."""
    return body["data"], [(e["extensions"]["code"], e["message"], e.get("path")) for e in body.get("errors", [])]


def kelurahan_of(world: World, code: str) -> list:
    return [c for c in world.citizens if c.kelurahan_code == code]


# -- 1. filtering by what a role may not see ------------------------------------------


@pytest.mark.parametrize("argument", ["applicantNik: \"1471080101800001\"", "nameContains: \"Budi\""])
async def test_the_analyst_cannot_filter_applications_by_a_personal_field_it_may_not_see(
    argument: str, execute: Execute
) -> None:
    body = await execute(f"{{ applications(filter: {{{argument}}}) {{ totalCount }} }}",
                         principal=ANALYST, purpose="statistics")
    assert body["data"] is None
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert argument.split(":")[0] in body["errors"][0]["message"]  # "no field ... on ApplicationFilter"


async def test_the_analyst_still_filters_applications_by_what_it_sees(execute: Execute, world: World) -> None:
    body = await execute('{ applications(filter: {kelurahan: ["%s"]}) { totalCount } }' % SIMPANG_BARU,
                         principal=ANALYST, purpose=None)
    assert "errors" not in body
    assert body["data"]["applications"]["totalCount"] == sum(
        1 for a in world.applications if a.kelurahan_code == SIMPANG_BARU)


def _policy_with(full_schema: RoleSchema, change: Callable[[dict[str, Any]], None]) -> Policy:
    from importlib import resources

    data = yaml.safe_load(resources.files("auth").joinpath(DEFAULT_POLICY_FILE).read_text())
    change(data)
    catalogue = catalogue_of(full_schema._schema)
    return parse_policy(data, catalogue=catalogue, kinds=value_kinds(catalogue))


def _custom_env(env: Environment, policy: Policy) -> Environment:
    fields = {name: getattr(env, name) for name in env.__dataclass_fields__}
    return Environment(**{**fields, "access": AccessControl(policy, load_purposes())})


async def _run(schema: RoleSchema, env: Environment, query: str, principal: Principal,
               variables: dict[str, Any] | None = None, purpose: str | None = None,
               case: str | None = None) -> dict[str, Any]:
    ctx = Context.create(env, principal, request_id="t", purpose=purpose, case=case)
    result = await schema.execute(query, variable_values=variables, context_value=ctx)
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [format_error(e, request_id="t") for e in result.errors]
    return body


async def test_a_masked_field_is_not_searchable_by_its_full_value(full_schema: RoleSchema, env: Environment) -> None:
    def mask_applicant_nik(data: dict[str, Any]) -> None:
        data["roles"]["licensing_officer"]["types"]["Application"] = {"fields": "*", "mask": {"applicantNik": "nik"}}

    policy = _policy_with(full_schema, mask_applicant_nik)
    schema = build_role_schema(full_schema, policy, frozenset({"licensing_officer"}))
    fields = schema._schema.type_map["ApplicationFilter"].fields  # type: ignore[union-attr]
    assert "applicantNik" not in fields and "kelurahan" in fields
    principal, purpose, case = LICENSING
    body = await _run(schema, _custom_env(env, policy),
                      '{ applications(filter: {applicantNik: "1471080101800001"}) { totalCount } }',
                      principal, purpose=purpose, case=case)
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_a_field_some_rows_hide_is_not_searchable(full_schema: RoleSchema) -> None:
    def hide_names_of_some_rows(data: dict[str, Any]) -> None:
        data["roles"]["kelurahan_officer"]["types"]["Application"] = {
            "fields": "*", "rows": [{"rule": "kelurahan_applications", "hide": ["applicantName"]}]}

    policy = _policy_with(full_schema, hide_names_of_some_rows)
    schema = build_role_schema(full_schema, policy, frozenset({"kelurahan_officer"}))
    fields = schema._schema.type_map["ApplicationFilter"].fields  # type: ignore[union-attr]
    assert "nameContains" not in fields  # it also matches applicantName
    assert "applicantNik" in fields


# -- 1. a search by personal data needs a purpose and leaves a `search` entry ----------


@pytest.mark.parametrize("flt", [
    {"bornFrom": "1980-01-01", "bornTo": "1980-01-03"},
    {"nameContains": "Budi"},
    {"sex": "FEMALE"},
    {"familyNumber": "1471080101000001"},
], ids=["birth-date", "name", "sex", "family-number"])
async def test_a_count_by_a_personal_field_needs_a_purpose(flt: dict[str, Any], execute: Execute, ledger: MemoryLedger) -> None:
    body = await execute(COUNT_CITIZENS, {"f": flt}, principal=KELURAHAN_OFFICER, purpose=None)
    assert body["data"] is None
    assert codes(body) == ["PURPOSE_REQUIRED"]
    assert ledger.drafts == []


async def test_a_search_inside_a_fragment_needs_a_purpose_too(execute: Execute) -> None:
    query = """query { ...F } fragment F on Query { ... on Query {
      citizens(filter: {nameContains: "Budi"}) { totalCount } } }"""
    body = await execute(query, principal=KELURAHAN_OFFICER, purpose=None)
    assert codes(body) == ["PURPOSE_REQUIRED"]


async def test_a_birth_date_search_leaves_a_search_entry_without_the_date(
    execute: Execute, ledger: MemoryLedger, world: World
) -> None:
    flt = {"bornFrom": "1980-01-01", "bornTo": "1980-01-03"}
    body = await execute(COUNT_CITIZENS, {"f": flt}, principal=KELURAHAN_OFFICER)
    assert "errors" not in body
    expected = [c for c in kelurahan_of(world, SIMPANG_BARU) if date(1980, 1, 1) <= c.birth_date <= date(1980, 1, 3)]
    assert body["data"]["citizens"]["totalCount"] == len(expected)
    (entry,) = ledger.drafts  # nothing personal selected: the search is the only entry
    assert entry.action == "search" and entry.record_type == "Citizen"
    assert tuple(entry.fields) == ("birthDate",) and tuple(entry.masked_fields) == ("birthDate",)
    assert "1980-01-0" not in entry.record_key and "1980" in entry.record_key
    assert entry.purpose == "population-service" and entry.subject == KELURAHAN_OFFICER.subject


async def test_a_name_search_leaves_initials_never_the_name(execute: Execute, ledger: MemoryLedger) -> None:
    body = await execute(COUNT_CITIZENS, {"f": {"nameContains": "Budi Santoso"}}, principal=KELURAHAN_OFFICER)
    assert "errors" not in body
    (entry,) = [d for d in ledger.drafts if d.action == "search"]
    assert "Budi" not in entry.record_key and "Santoso" not in str(entry.detail)
    assert "B. S." in entry.record_key
    assert tuple(entry.fields) == ("fullName",)


async def test_a_search_by_applicant_nik_ledgers_the_masked_nik_even_without_personal_fields(
    execute: Execute, ledger: MemoryLedger, world: World
) -> None:
    target = world.applications[0].applicant_nik
    assert target is not None
    refused = await execute(APPLICATION_NUMBERS, {"f": {"applicantNik": target}}, principal=POPULATION, purpose=None)
    assert codes(refused) == ["PURPOSE_REQUIRED"] and ledger.drafts == []
    body = await execute(APPLICATION_NUMBERS, {"f": {"applicantNik": target}}, principal=POPULATION)
    assert [e["node"]["number"] for e in body["data"]["applications"]["edges"]] == [world.applications[0].number]
    (entry,) = [d for d in ledger.drafts if d.action == "search"]
    assert target not in entry.record_key and f"{target[:6]}******{target[-4:]}" in entry.record_key
    assert tuple(entry.fields) == ("applicantNik",) and tuple(entry.masked_fields) == ("applicantNik",)


async def test_a_company_or_applicant_name_search_reads_both_names(execute: Execute, ledger: MemoryLedger) -> None:
    await execute(APPLICATION_NUMBERS, {"f": {"nameContains": "Budi"}}, principal=POPULATION)
    (entry,) = [d for d in ledger.drafts if d.action == "search"]
    assert tuple(entry.fields) == ("applicantName", "companyName")


async def test_a_search_under_a_case_is_no_way_around_the_case(execute: Execute, ledger: MemoryLedger) -> None:
    principal, purpose, case = LICENSING  # licensing officers read applicants only under one case
    body = await execute(APPLICATION_NUMBERS, {"f": {"nameContains": "Budi"}}, principal=principal,
                         purpose=purpose, case=case)
    assert body["data"] in (None, {"applications": None}) and codes(body) == ["PURPOSE_REQUIRED"]
    assert not [d for d in ledger.drafts if d.action == "search" and d.record_type == "Application"
                and "Budi" in d.record_key]


async def test_a_filter_on_no_personal_field_needs_no_purpose_and_no_entry(execute: Execute, ledger: MemoryLedger) -> None:
    body = await execute('{ applications(filter: {status: [ISSUED]}) { totalCount } }', principal=ANALYST, purpose=None)
    assert "errors" not in body and body["data"]["applications"]["totalCount"] > 0
    assert ledger.drafts == []


async def test_a_search_is_not_answered_when_its_entry_cannot_be_written(execute: Execute, ledger: MemoryLedger) -> None:
    ledger.fail = True
    body = await execute(COUNT_CITIZENS, {"f": {"nameContains": "Budi"}}, principal=KELURAHAN_OFFICER)
    assert body["data"] is None
    assert codes(body) == ["LEDGER_UNAVAILABLE"]


async def test_a_search_on_a_hub_without_a_ledger_is_refused(
    env: Environment, role_schemas: Callable[[frozenset[str]], RoleSchema]
) -> None:
    fields = {name: getattr(env, name) for name in env.__dataclass_fields__}
    bare = Environment(**{**fields, "ledger": None})
    body = await _run(role_schemas(KELURAHAN_OFFICER.roles), bare, COUNT_CITIZENS, KELURAHAN_OFFICER,
                      {"f": {"nameContains": "Budi"}}, purpose="population-service")
    assert body["data"] is None and codes(body) == ["LEDGER_UNAVAILABLE"]


# -- 1. counts, pages and existence obey the row rules ---------------------------------


async def test_a_count_never_includes_rows_of_another_kelurahan(execute: Execute, world: World) -> None:
    for flt in ({}, {"kelurahan": [SIDOMULYO_BARAT]}, {"kelurahan": [SIMPANG_BARU, SIDOMULYO_BARAT]}):
        body = await execute(COUNT_CITIZENS, {"f": flt}, principal=KELURAHAN_OFFICER)
        expected = 0 if flt.get("kelurahan") == [SIDOMULYO_BARAT] else len(kelurahan_of(world, SIMPANG_BARU))
        assert body["data"]["citizens"]["totalCount"] == expected


async def test_the_last_page_says_no_next_page_when_only_withheld_rows_follow(execute: Execute, world: World) -> None:
    own = sorted(c.nik for c in kelurahan_of(world, SIMPANG_BARU))
    body = await execute(LIST_CITIZENS, {"first": len(own)}, principal=KELURAHAN_OFFICER)
    page = body["data"]["citizens"]
    assert [e["node"]["nik"] for e in page["edges"]] == own
    # rows of the other kelurahan sort after the last one here: they must not show as a next page
    assert max(c.nik for c in world.citizens) not in own
    assert page["pageInfo"]["hasNextPage"] is False


async def test_a_role_whose_rows_the_source_cannot_filter_exactly_may_not_list(
    env: Environment, full_schema: RoleSchema, world: World
) -> None:
    # a kelurahan officer who is also a citizen: own kelurahan OR own applications is no
    # single conjunction, so the source would count and page rows neither role may read
    both = Principal("k2", frozenset({"kelurahan_officer", "citizen"}), kelurahan=SIMPANG_BARU,
                     nik=world.citizens[1].nik)
    schema = build_role_schema(full_schema, env.access.policy, both.roles)
    body = await _run(schema, env, '{ applications { totalCount edges { node { number } } } }', both,
                      purpose="population-service")
    assert body["data"] == {"applications": None}
    assert codes(body) == ["FORBIDDEN"]


async def test_a_deny_rule_that_can_match_at_the_root_makes_a_listing_refused(
    env: Environment, full_schema: RoleSchema
) -> None:
    def deny_own_kelurahan(data: dict[str, Any]) -> None:
        data["roles"]["population_officer"]["types"]["Citizen"]["deny"] = "own_kelurahan"

    policy = _policy_with(full_schema, deny_own_kelurahan)
    schema = build_role_schema(full_schema, policy, POPULATION.roles)
    officer = Principal("p2", POPULATION.roles, kelurahan=SIMPANG_BARU)
    body = await _run(schema, _custom_env(env, policy), COUNT_CITIZENS, officer, purpose="population-service")
    assert body["data"] == {"citizens": None} and codes(body) == ["FORBIDDEN"]


LOOKUPS = {
    "citizen": ("query($k: String!) { citizen(nik: $k) { nik } }", "nik"),
    "family": ("query($k: String!) { family(number: $k) { number } }", "family"),
    "application": ("query($k: String!) { application(number: $k) { number } }", "application"),
    "complaint": ("query($k: String!) { complaint(number: $k) { number } }", "complaint"),
}


def _unreadable_and_unknown(world: World, role: str, root: str) -> tuple[str, str] | None:
    """A real key the role may not read, and an unknown key of the same shape."""
    if role == "kelurahan_officer":
        other = [c for c in world.citizens if c.kelurahan_code == SIDOMULYO_BARAT]
        keys = {"citizen": other[0].nik, "family": other[0].family_number,
                "application": next(a.number for a in world.applications if a.kelurahan_code == SIDOMULYO_BARAT),
                "complaint": next(c.number for c in world.complaints if c.kelurahan_code == SIDOMULYO_BARAT)}
    elif role == "citizen":
        other = [c for c in world.citizens if c.family_number != world.citizens[0].family_number]
        keys = {"citizen": other[0].nik, "family": other[0].family_number,
                "application": next(a.number for a in world.applications if a.applicant_nik != CITIZEN.nik),
                "complaint": next(c.number for c in world.complaints if c.reporter_nik != CITIZEN.nik)}
    else:
        return None
    unknown = {"citizen": "1471080101990999", "family": "1471080101999999",
               "application": "503/DPMPTSP/2025/999999-X9", "complaint": "LPR-2025-9999Q"}
    return keys[root], unknown[root]


@pytest.mark.parametrize("role", ["kelurahan_officer", "citizen"])
@pytest.mark.parametrize("root", sorted(LOOKUPS))
async def test_an_unknown_key_is_answered_like_an_unreadable_one(
    role: str, root: str, execute: Execute, world: World
) -> None:
    principal, purpose, case = PRINCIPALS[role]
    query, _ = LOOKUPS[root]
    keys = _unreadable_and_unknown(world, role, root)
    assert keys is not None
    real, unknown = [await execute(query, {"k": k}, principal=principal, purpose=purpose, case=case) for k in keys]
    assert answer(real) == answer(unknown)
    assert codes(real) == ["FORBIDDEN"] and real["data"] == {root: None}


@pytest.mark.parametrize("role", ["population_officer", "licensing_officer", "complaint_officer"])
async def test_a_role_that_reads_every_row_gets_null_for_an_unknown_key(role: str, execute: Execute) -> None:
    principal, purpose, case = PRINCIPALS[role]
    root = {"population_officer": "citizen", "licensing_officer": "application", "complaint_officer": "complaint"}[role]
    unknown = {"citizen": "1471080101990999", "application": "503/DPMPTSP/2025/999999-X9",
               "complaint": "LPR-2025-9999Q"}[root]
    body = await execute(LOOKUPS[root][0], {"k": unknown}, principal=principal, purpose=purpose, case=case)
    assert body["data"] == {root: None} and "errors" not in body


async def test_tracking_by_number_shows_no_more_for_a_real_number_than_its_progress(execute: Execute, world: World) -> None:
    query = "query($k: String!) { trackComplaint(number: $k) { number status visibility category } }"
    confidential = next(c for c in world.complaints if c.visibility.value == "CONFIDENTIAL")
    body = await execute(query, {"k": confidential.number}, principal=PRINCIPALS["anonymous"][0], purpose=None)
    shown = body["data"]["trackComplaint"]
    assert shown["number"] == confidential.number and shown["visibility"] is None and shown["category"] is None


# -- 1. binary search of a birth date ----------------------------------------------------


async def test_binary_searching_a_birth_date_needs_the_purpose_and_leaves_the_ledger_of_reading_it(
    execute: Execute, ledger: MemoryLedger, world: World
) -> None:
    target = next(c for c in kelurahan_of(world, SIMPANG_BARU) if c.birth_date.year == 1983)

    async def count(low: date, high: date, purpose: str | None) -> dict[str, Any]:
        flt = {"nameContains": target.full_name, "bornFrom": low.isoformat(), "bornTo": high.isoformat()}
        return await execute(COUNT_CITIZENS, {"f": flt}, principal=KELURAHAN_OFFICER, purpose=purpose)

    # without a purpose the oracle answers nothing at all
    assert codes(await count(date(1900, 1, 1), date(2020, 1, 1), None)) == ["PURPOSE_REQUIRED"]
    # with one, every probe is a ledgered search naming the fields read
    low, high, probes = date(1900, 1, 1), date(2020, 12, 31), 0
    while low < high:
        middle = low + (high - low) / 2
        body = await count(low, middle, "population-service")
        probes += 1
        if body["data"]["citizens"]["totalCount"]:
            high = middle
        else:
            low = middle + timedelta(days=1)
    assert low == target.birth_date
    searches = [d for d in ledger.drafts if d.action == "search"]
    assert len(searches) == probes
    assert all({"birthDate", "fullName"} <= set(d.fields) for d in searches)
    assert all(target.full_name not in d.record_key and target.birth_date.isoformat() not in d.record_key
               for d in searches)


async def test_binary_searching_a_birth_date_in_another_kelurahan_learns_nothing(execute: Execute, world: World) -> None:
    target = kelurahan_of(world, SIDOMULYO_BARAT)[0]
    answers = set()
    for day in range(1, 32):
        flt = {"bornFrom": "1980-01-01", "bornTo": date(1980, 1, day).isoformat()}
        body = await execute(COUNT_CITIZENS, {"f": flt}, principal=KELURAHAN_OFFICER)
        answers.add((day >= target.birth_date.day, body["data"]["citizens"]["totalCount"]
                     - sum(1 for c in kelurahan_of(world, SIMPANG_BARU) if c.birth_date <= date(1980, 1, day)
                           and c.birth_date >= date(1980, 1, 1))))
    assert {delta for _, delta in answers} == {0}  # the counts are those of its own rows only


# -- 2. cursors ----------------------------------------------------------------------------


async def _first_page(execute: Execute, principal: Principal = KELURAHAN_OFFICER, flt: dict | None = None,
                      first: int = 2) -> dict[str, Any]:
    body = await execute(LIST_CITIZENS, {"first": first, "f": flt}, principal=principal)
    assert "errors" not in body, body
    return body["data"]["citizens"]


def _peeled(text: str, depth: int = 3) -> list[str]:
    """`text` and whatever base64 and JSON inside it decode to, a few layers deep."""
    found = [text]
    if depth == 0:
        return found
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("utf-8")
    except ValueError:
        return found
    found.append(raw)
    try:
        inner = json.loads(raw)
    except ValueError:
        return found + _peeled(raw, depth - 1)
    values = inner.values() if isinstance(inner, dict) else [inner]
    for value in values:
        if isinstance(value, str):
            found += _peeled(value, depth - 1)
    return found


async def test_no_cursor_carries_a_nik_however_it_is_decoded(execute: Execute) -> None:
    page = await _first_page(execute, first=3)
    niks = [e["node"]["nik"] for e in page["edges"]]
    for cursor in [e["cursor"] for e in page["edges"]] + [page["pageInfo"]["endCursor"]]:
        for layer in _peeled(cursor):
            assert not any(nik in layer for nik in niks), layer


async def test_walking_with_cursors_sees_every_readable_row_once(execute: Execute, world: World) -> None:
    seen, after = [], None
    while True:
        body = await execute(LIST_CITIZENS, {"first": 2, "after": after}, principal=KELURAHAN_OFFICER)
        page = body["data"]["citizens"]
        seen += [e["node"]["nik"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == sorted(c.nik for c in kelurahan_of(world, SIMPANG_BARU))


def _tampered(cursor: str) -> list[str]:
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[len(raw) // 2] ^= 1
    return [base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("="), cursor[:-3], cursor + "AA"]


async def test_a_forged_tampered_or_truncated_cursor_is_bad_user_input(execute: Execute, world: World) -> None:
    page = await _first_page(execute)
    nik = sorted(c.nik for c in kelurahan_of(world, SIMPANG_BARU))[0]
    # a cursor as the hub made them before issue 21: it positioned the listing anywhere
    source = base64.urlsafe_b64encode(nik.encode()).decode().rstrip("=")
    old_style = base64.urlsafe_b64encode(f'{{"c":"{source}","o":0}}'.encode()).decode().rstrip("=")
    for cursor in [*_tampered(page["pageInfo"]["endCursor"]), old_style, "x" * 5000, "%%%"]:
        body = await execute(LIST_CITIZENS, {"first": 2, "after": cursor}, principal=KELURAHAN_OFFICER)
        assert body["data"] == {"citizens": None}, cursor
        assert codes(body) == ["BAD_USER_INPUT"]
        assert "cursor" in body["errors"][0]["message"]


async def test_a_cursor_of_another_query_filter_role_or_caller_is_bad_user_input(execute: Execute) -> None:
    cursor = (await _first_page(execute))["pageInfo"]["endCursor"]
    other_officer = Principal("k9", KELURAHAN_OFFICER.roles, kelurahan=SIMPANG_BARU)
    attempts = [
        (LIST_CITIZENS, {"first": 2, "after": cursor, "f": {"sex": "MALE"}}, KELURAHAN_OFFICER, "population-service"),
        (LIST_CITIZENS, {"first": 2, "after": cursor}, other_officer, "population-service"),
        (LIST_CITIZENS, {"first": 2, "after": cursor}, POPULATION, "population-service"),
        (APPLICATION_NUMBERS, {"after": cursor}, KELURAHAN_OFFICER, "population-service"),
    ]
    for query, variables, principal, purpose in attempts:
        body = await execute(query, variables, principal=principal, purpose=purpose)
        assert codes(body) == ["BAD_USER_INPUT"], (variables, principal)


async def test_resuming_from_an_edge_asks_the_source_for_no_more_rows_than_the_page_needs(
    execute: Execute, sources: Any
) -> None:
    asked: list[int] = []
    population = sources.population
    original = population.list_citizens

    async def counting(flt: CitizenFilter, page: PageRequest) -> Page:
        asked.append(page.first)
        return await original(flt, page)

    population.list_citizens = counting
    page = await _first_page(execute, principal=POPULATION, first=5)
    asked.clear()
    body = await execute(LIST_CITIZENS, {"first": 3, "after": page["edges"][1]["cursor"]}, principal=POPULATION)
    assert len(body["data"]["citizens"]["edges"]) == 3
    assert sum(asked) == 2 + 3  # the two rows skipped, then the page
    # and a cursor from the new page skips at most one page
    asked.clear()
    again = body["data"]["citizens"]["edges"][1]["cursor"]
    await execute(LIST_CITIZENS, {"first": 3, "after": again}, principal=POPULATION)
    assert sum(asked) <= 3 + 3


async def test_a_role_that_may_search_by_nothing_has_no_filter_and_no_listing_to_filter(full_schema: RoleSchema) -> None:
    def mask_everything_complaint_filters_read(data: dict[str, Any]) -> None:
        data["roles"]["analyst"]["types"]["Complaint"] = {"fields": ["number", "status"], "mask": {"status": "redact"}}

    policy = _policy_with(full_schema, mask_everything_complaint_filters_read)
    schema = build_role_schema(full_schema, policy, ANALYST.roles)  # builds: no empty input type
    assert "complaints" not in schema._schema.query_type.fields  # type: ignore[union-attr]
    assert "ComplaintFilter" not in schema._schema.type_map
    assert "complaint" in schema._schema.query_type.fields  # type: ignore[union-attr]
