"""Side channels of values (issue 21, classes 3 and 4), across every role.

3. The same value under another name: a role's NIK mask (or hide) applies to every
   field carrying a NIK, found by the registry and empirically (any sample NIK that
   comes back in full), and the ledger records such fields as masked.
4. Diagnostics that count what was withheld: `extensions.sources` (and so /metrics)
   counts only the records the caller was shown; errors and source states carry no
   NIK or family card number.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from auth.kinds import ValueKind
from auth.ledger import LedgerEntry
from auth.policy import AccessKind, Policy, PolicyError, load_policy
from connectors.errors import SourceUnavailable
from tests.schema.harness import Execute, MemoryLedger
from hub.metrics import HubMetrics
from schema.access import catalogue_of
from schema.build import RoleSchema
from schema.context import Context, Environment
from schema.errors import format_error
from schema.sources import Sources
from schema.value_kinds import CALLERS_OWN, VALUE_KINDS, value_kinds
from tests.support.sample_world import SIDOMULYO_BARAT, SIMPANG_BARU
from tests.schema.test_policy_enforcement import MAX_DEPTH, PRINCIPALS, WORLD, queries

POLICY_FILE = Path(__file__).resolve().parents[2] / "auth" / "default_policy.yaml"
SAMPLE_NIKS = {c.nik for c in WORLD.citizens}
SIXTEEN_DIGITS = re.compile(r"(?<!\d)\d{16}(?!\d)")
RECORD_TYPES = ("Citizen", "Application", "Complaint")


def _file_says(role: str, kind: ValueKind) -> tuple[bool, bool]:
    """(masks, hides): whether the policy file itself masks or hides `kind` for `role`,
    read from the YAML, not from the loaded policy under test."""
    body = yaml.safe_load(POLICY_FILE.read_text(encoding="utf-8"))["roles"][role]
    masks = hides = False
    for type_name, entry in (body.get("types") or {}).items():
        if not isinstance(entry, dict):
            continue
        masks |= any(VALUE_KINDS.get((type_name, f)) is kind for f in entry.get("mask") or {})
        hides |= any(VALUE_KINDS.get((type_name, f)) is kind for f in entry.get("hide") or [])
    return masks, hides


def _role_fields(role_schemas: Callable[[frozenset[str]], RoleSchema], role: str) -> set[tuple[str, str]]:
    schema = role_schemas(frozenset({role}))._schema
    return {(t, f) for t, fields in catalogue_of(schema).items() for f in fields}


# -- 3. the same value under another name ------------------------------------------


@pytest.mark.parametrize("role", sorted(PRINCIPALS))
def test_no_nik_field_of_a_role_schema_is_shown_in_full_where_its_nik_mask_applies(
    role: str, policy: Policy, role_schemas: Callable[[frozenset[str]], RoleSchema]
) -> None:
    masks, hides = _file_says(role, ValueKind.NIK)
    nik_fields = {(t, f) for t, f in _role_fields(role_schemas, role) if VALUE_KINDS.get((t, f)) is ValueKind.NIK}
    roles = frozenset({role})
    if hides:
        assert not nik_fields, f"{role} hides NIKs, yet its schema holds {sorted(nik_fields)}"
    elif masks:
        assert nik_fields, "the role's schema shows no NIK at all: the test would prove nothing"
        full = sorted((t, f) for t, f in nik_fields if policy.field_access(roles, t, f).kind is AccessKind.FULL)
        assert not full, f"{role} masks NIKs, yet sees {full} in full"
    else:  # a role that masks no NIK sees every NIK field the same way
        kinds = {policy.field_access(roles, t, f).kind for t, f in nik_fields}
        assert kinds <= {AccessKind.FULL}


def _walk(schema: Any) -> Iterator[list[str]]:
    """Each root field's query at every depth, deepest first (see test_policy_enforcement)."""
    by_depth = [list(queries(schema, depth)) for depth in range(MAX_DEPTH, 0, -1)]
    yield from (list(variants) for variants in zip(*by_depth, strict=True))


async def _run_walk(execute: Execute, role: str, schema: Any) -> list[dict[str, Any]]:
    principal, purpose, case = PRINCIPALS[role]
    bodies = []
    for variants in _walk(schema):
        for query in variants:
            body = await execute(query, principal=principal, purpose=purpose, case=case)
            if "QUERY_TOO_COMPLEX" not in {e["extensions"]["code"] for e in body.get("errors", [])}:
                break
        bodies.append(body)
    return bodies


def _scalars(node: Any, type_name: str | None = None) -> Iterator[tuple[str | None, str, Any]]:
    """(type, field, value) of every scalar in a response's data."""
    if isinstance(node, list):
        for item in node:
            yield from _scalars(item, type_name)
    elif isinstance(node, dict):
        here = node.get("__typename", type_name)
        for key, value in node.items():
            if isinstance(value, (dict, list)):
                yield from _scalars(value, here)
            elif key != "__typename":
                yield here, key[2:] if key.startswith("x_") else key, value


@pytest.mark.parametrize("role", sorted(PRINCIPALS))
async def test_every_field_showing_a_sample_nik_in_full_is_declared_and_allowed_in_full(
    role: str, execute: Execute, role_schemas: Callable[[frozenset[str]], RoleSchema]
) -> None:
    """Empirical: every reachable scalar of every record is selected; a sample NIK that
    comes back in full must come from a field declared as carrying NIKs (so a new,
    undeclared field is caught), and never to a role whose NIK mask applies."""
    masks, hides = _file_says(role, ValueKind.NIK)
    schema = role_schemas(frozenset({role}))._schema
    found: set[tuple[str | None, str]] = set()
    for body in await _run_walk(execute, role, schema):
        for type_name, field_name, value in _scalars(body["data"]):
            if isinstance(value, str) and value in SAMPLE_NIKS:
                found.add((type_name, field_name))
    undeclared = {(t, f) for t, f in found if (t, f) not in VALUE_KINDS and (t, f) not in CALLERS_OWN}
    assert not undeclared, f"fields carrying NIKs without a declared kind: {sorted(undeclared, key=str)}"
    if masks or hides:
        assert not found, f"{role} masks or hides NIKs, yet received them in full from {sorted(found, key=str)}"
    elif role in ("population_officer", "kelurahan_officer", "complaint_officer", "citizen"):
        assert found, "no NIK came back at all: the walk would prove nothing"


def test_a_field_named_like_a_nik_without_a_declared_kind_stops_the_start(full_schema: RoleSchema) -> None:
    catalogue = dict(catalogue_of(full_schema._schema))
    assert value_kinds(catalogue) is VALUE_KINDS  # the shipped schema declares all it carries
    catalogue["Complaint"] = catalogue["Complaint"] | {"witnessNik"}
    with pytest.raises(PolicyError, match=r"Complaint\.witnessNik .* NIK .* VALUE_KINDS"):
        value_kinds(catalogue)


def test_a_policy_masking_birth_dates_but_showing_niks_in_full_stops_the_start(
    full_schema: RoleSchema, tmp_path: Path
) -> None:
    data = yaml.safe_load(POLICY_FILE.read_text(encoding="utf-8"))
    data["roles"]["kelurahan_officer"]["types"]["Citizen"]["mask"] = {"birthDate": "year"}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    catalogue = catalogue_of(full_schema._schema)
    with pytest.raises(PolicyError, match="kelurahan_officer.*discloses the BIRTH_DATE"):
        load_policy(path, catalogue=catalogue, kinds=value_kinds(catalogue))


LICENSING, LICENSING_PURPOSE, LICENSING_CASE = PRINCIPALS["licensing_officer"]


def _masked(nik: str) -> str:
    return nik[:6] + "******" + nik[-4:]


@pytest.mark.parametrize("index", range(len(WORLD.applications)))
async def test_a_licensing_officer_sees_the_applicant_nik_masked_under_both_names(
    index: int, execute: Execute
) -> None:
    application = WORLD.applications[index]
    body = await execute(
        '{ application(number: "%s") { applicantNik applicant { nik } } }' % application.number,
        principal=LICENSING, purpose=LICENSING_PURPOSE, case=application.number,
    )
    node = body["data"]["application"]
    assert node == {"applicantNik": _masked(application.applicant_nik),
                    "applicant": {"nik": _masked(application.applicant_nik)}}


async def test_a_licensing_officer_sees_one_application_with_its_nik_masked(execute: Execute) -> None:
    application = WORLD.applications[0]
    body = await execute(
        '{ application(number: "%s") { applicantNik applicantName } }' % application.number,
        principal=LICENSING, purpose=LICENSING_PURPOSE, case=LICENSING_CASE,
    )
    assert body["data"]["application"] == {
        "applicantNik": _masked(application.applicant_nik), "applicantName": application.applicant_name,
    }


async def test_a_status_change_answers_with_the_applicant_nik_masked(execute: Execute) -> None:
    application = WORLD.applications[1]  # in file check: may move on
    body = await execute(
        'mutation { updateApplicationStatus(number: "%s", status: FILE_INCOMPLETE, note: "KTP kurang") '
        "{ applicantNik } }" % application.number,
        principal=LICENSING, purpose=LICENSING_PURPOSE, case=application.number,
    )
    assert "errors" not in body, body["errors"]
    assert body["data"]["updateApplicationStatus"]["applicantNik"] == _masked(application.applicant_nik)


async def test_the_ledger_records_the_carried_mask_as_masked(execute: Execute, ledger: MemoryLedger) -> None:
    for application in WORLD.applications:
        await execute(
            '{ application(number: "%s") { number applicantNik } }' % application.number,
            principal=LICENSING, purpose=LICENSING_PURPOSE, case=application.number,
        )
    entries = [d for d in ledger.drafts if d.record_type == "Application"]
    assert len(entries) == len(WORLD.applications)
    assert all("applicantNik" in d.fields and "applicantNik" in d.masked_fields for d in entries)


async def test_an_auditor_never_reads_a_nik_in_full_in_the_ledger(
    env: Environment, role_schemas: Callable[[frozenset[str]], RoleSchema]
) -> None:
    citizen = WORLD.citizens[0]
    entry = LedgerEntry(
        seq=1, time=datetime(2025, 9, 1, tzinfo=UTC), request_id="r", subject=citizen.nik, roles=("citizen",),
        client_id=None, purpose="self-service", case=None, operation_name=None, document_hash="0" * 64,
        record_type="Citizen", record_key=citizen.nik, fields=("nik",), masked_fields=(), action="write",
        detail=f"address of {citizen.nik} corrected", department=None, prev_hash="0" * 64, entry_hash="1" * 64,
    )

    async def reader(**filters: object) -> list[LedgerEntry]:
        return [entry]

    principal, purpose, case = PRINCIPALS["auditor"]
    ctx = Context.create(dataclasses.replace(env, ledger_reader=reader), principal, request_id="t", purpose=purpose)
    schema = role_schemas(principal.roles)
    result = await schema.execute(
        "{ accessLedger(first: 5) { subject recordKey detail } }", context_value=ctx
    )
    assert result.errors is None
    (shown,) = result.data["accessLedger"]  # type: ignore[index]
    assert shown["subject"] == shown["recordKey"] == _masked(citizen.nik)
    assert not SIXTEEN_DIGITS.search(repr(shown))


# -- 4. diagnostics count only what the caller was shown ------------------------------


def _items(body: dict[str, Any], operation: str) -> int:
    return sum(t["items"] for t in body["extensions"]["sources"] if t["operation"] == operation)


def _records_in(node: Any) -> int:
    """Record objects (Citizen, Application, Complaint) in a response's data."""
    if isinstance(node, list):
        return sum(_records_in(n) for n in node)
    if not isinstance(node, dict):
        return 0
    return (node.get("__typename") in RECORD_TYPES) + sum(_records_in(v) for v in node.values())


def _other_family(of_nik: str) -> str:
    own = next(c.family_number for c in WORLD.citizens if c.nik == of_nik)
    return next(c.family_number for c in WORLD.citizens if c.family_number != own)


FAMILY_CALLERS = [
    pytest.param("citizen", _other_family(PRINCIPALS["citizen"][0].nik or ""), id="citizen-another-family"),
    pytest.param(
        "kelurahan_officer",
        next(c.family_number for c in WORLD.citizens if c.kelurahan_code == SIDOMULYO_BARAT),
        id="kelurahan-officer-another-kelurahan",
    ),
]


@pytest.mark.parametrize(("role", "number"), FAMILY_CALLERS)
async def test_a_family_not_yours_tells_nothing_of_its_size(role: str, number: str, execute: Execute) -> None:
    principal, purpose, case = PRINCIPALS[role]
    body = await execute('{ family(number: "%s") { members { fullName } } }' % number,
                         principal=principal, purpose=purpose, case=case)
    assert body["data"]["family"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert _items(body, "families_by_number") == 0
    assert not any(str(n) in e["message"] for e in body["errors"] for n in (3, "three", "tiga"))


async def test_a_citizens_confidential_complaint_is_not_counted_for_a_kelurahan_officer(execute: Execute) -> None:
    principal, purpose, case = PRINCIPALS["kelurahan_officer"]
    body = await execute("{ citizens(first: 100) { edges { node { nik complaints { number } } } } }",
                         principal=principal, purpose=purpose, case=case)
    shown = sum(len(e["node"]["complaints"]) for e in body["data"]["citizens"]["edges"])
    in_kelurahan = [m for m in WORLD.complaints if m.kelurahan_code == SIMPANG_BARU]
    assert shown < len(in_kelurahan)  # some are confidential or anonymous: withheld from the link
    assert _items(body, "complaints_by_reporter") == shown


@pytest.mark.parametrize("kind", ["application", "complaint"])
async def test_a_record_of_someone_else_is_not_counted_for_a_citizen(kind: str, execute: Execute) -> None:
    principal, purpose, case = PRINCIPALS["citizen"]
    records = WORLD.applications if kind == "application" else WORLD.complaints
    owner = "applicant_nik" if kind == "application" else "reporter_nik"
    other = next(r for r in records if getattr(r, owner) != principal.nik)
    body = await execute('{ %s(number: "%s") { number } }' % (kind, other.number),
                         principal=principal, purpose=purpose, case=case)
    assert body["data"][kind] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert sum(t["items"] for t in body["extensions"]["sources"]) == 0


@pytest.mark.parametrize("role", sorted(PRINCIPALS))
async def test_no_trace_counts_more_records_than_the_response_shows(
    role: str, execute: Execute, role_schemas: Callable[[frozenset[str]], RoleSchema]
) -> None:
    """Every root field of the role's schema, at the deepest selection its limits admit,
    over every record of the sample world."""
    schema = role_schemas(frozenset({role}))._schema
    checked = 0
    for body in await _run_walk(execute, role, schema):
        counted = sum(t["items"] for t in body["extensions"].get("sources", []))
        assert counted <= _records_in(body["data"]), (body["data"], body["extensions"]["sources"])
        checked += counted > 0
    if role not in ("operator", "auditor", "analyst", "anonymous"):
        assert checked, "no record was ever counted: the test would prove nothing"


async def test_metrics_count_only_what_callers_were_shown(execute: Execute) -> None:
    principal, purpose, case = PRINCIPALS["citizen"]
    number = _other_family(principal.nik or "")
    body = await execute('{ family(number: "%s") { number } }' % number, principal=principal, purpose=purpose)
    metrics = HubMetrics()
    metrics.observe_operation(sources=body["trace"].as_list(), error_codes=["FORBIDDEN"], ledger_actions=[])
    labels = {"source": "population", "operation": "families_by_number"}
    assert metrics.registry.get_sample_value("simpul_source_calls_total", labels) == 1
    assert metrics.registry.get_sample_value("simpul_source_items_total", labels) == 0


NIK_IN_MESSAGE = WORLD.applications[0].applicant_nik


@pytest.mark.parametrize(
    ("role", "query"),
    [
        pytest.param("licensing_officer", '{ application(number: "%s") { applicant { nik } } }' % LICENSING_CASE,
                     id="licensing-officer-applicant"),
        pytest.param("population_officer", '{ citizen(nik: "%s") { nik } }' % NIK_IN_MESSAGE,
                     id="population-officer-citizen"),
        pytest.param("kelurahan_officer", "{ citizens(first: 5) { edges { node { nik } } } }",
                     id="kelurahan-officer-citizens"),
    ],
)
async def test_a_source_error_quoting_niks_reaches_the_caller_without_them(
    role: str, query: str, execute: Execute, sources: Sources
) -> None:
    sources.population.failure = SourceUnavailable(  # type: ignore[attr-defined]
        "population", f"HTTP 500: penduduk {NIK_IN_MESSAGE},{WORLD.citizens[1].nik} tidak terbaca"
    )
    principal, purpose, case = PRINCIPALS[role]
    body = await execute(query, principal=principal, purpose=purpose, case=case)
    messages = [e["message"] for e in body["errors"]]
    assert messages and all("tidak terbaca" in m for m in messages)
    assert not SIXTEEN_DIGITS.search(" ".join(messages)), messages
    assert _masked(NIK_IN_MESSAGE) in messages[0]


async def test_an_operator_reads_source_states_without_niks(execute: Execute, sources: Sources) -> None:
    sources.population.failure = SourceUnavailable(  # type: ignore[attr-defined]
        "population", f"database error (IntegrityError: duplicate key {NIK_IN_MESSAGE})"
    )
    principal, _, _ = PRINCIPALS["operator"]
    body = await execute("{ sources { source up detail lastError } }", principal=principal, purpose=None)
    population = next(s for s in body["data"]["sources"] if s["source"] == "population")
    assert population["up"] is False and "duplicate key" in population["detail"]
    assert not SIXTEEN_DIGITS.search(repr(body["data"]))


async def test_a_validation_error_does_not_echo_a_nik(execute: Execute) -> None:
    body = await execute("{ citizen(nik: %s) { nik } }" % NIK_IN_MESSAGE)
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert not SIXTEEN_DIGITS.search(body["errors"][0]["message"])


def test_format_error_masks_every_sixteen_digit_number_and_nothing_else() -> None:
    from graphql import GraphQLError

    from schema.errors import Forbidden

    refusal = Forbidden(f"KK {WORLD.citizens[0].family_number}, ref 12345678")
    error = GraphQLError(str(refusal), original_error=refusal)
    message = format_error(error, request_id="r")["message"]
    assert message == f"KK {_masked(WORLD.citizens[0].family_number)}, ref 12345678"
