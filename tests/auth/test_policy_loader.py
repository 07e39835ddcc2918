"""The policy loader refuses every kind of broken file, naming the file, the role and
the entry; a sound file loads."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from auth.policy import PolicyError, load_policy, parse_policy

CATALOGUE = {
    "Citizen": frozenset({"nik", "fullName", "birthDate", "religion"}),
    "Query": frozenset({"me", "citizen"}),
    "Mutation": frozenset({"submit"}),
}
ROLES = frozenset({"clerk", "visitor"})
BASE: dict[str, Any] = {
    "version": 1,
    "roles": {
        "clerk": {
            "types": {"Citizen": {"fields": "*", "mask": {"nik": "nik"}, "rows": "own_kelurahan"}},
            "query": ["me", "citizen"],
            "limits": {"max_query_cost": 100, "introspection": True},
        },
        "visitor": {"query": ["me"]},
    },
}


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _clerk(change: Callable[[dict[str, Any]], object]) -> Callable[[dict[str, Any]], object]:
    return lambda data: change(data["roles"]["clerk"])


def _citizen(change: Callable[[dict[str, Any]], object]) -> Callable[[dict[str, Any]], object]:
    return lambda data: change(data["roles"]["clerk"]["types"]["Citizen"])


BROKEN = [
    # roles
    pytest.param(
        lambda d: d["roles"].update(janitor={}),
        ["role 'janitor'", "unknown role"],
        id="unknown-role",
    ),
    pytest.param(lambda d: d["roles"].pop("visitor"), ["missing 'visitor'"], id="missing-role"),
    pytest.param(
        lambda d: d["roles"].update({1: {}}),
        ["role names must be strings"],
        id="role-name-not-text",
    ),
    pytest.param(
        lambda d: d["roles"].update(visitor=None),
        ["role 'visitor'", "expected a mapping"],
        id="role-body-empty",
    ),
    pytest.param(
        _clerk(lambda r: r.update(colour="red")),
        ["role 'clerk'", "unknown key 'colour'"],
        id="unknown-role-key",
    ),
    pytest.param(
        _clerk(lambda r: r.update(querry=["me"])), ["did you mean 'query'"], id="misspelt-role-key"
    ),
    pytest.param(
        _clerk(lambda r: r.update(description=3)),
        ["description", "expected text"],
        id="description-not-text",
    ),
    pytest.param(
        _clerk(lambda r: r.update(extends="ghost")),
        ["extends", "unknown role 'ghost'"],
        id="extends-unknown-role",
    ),
    pytest.param(
        _clerk(lambda r: r.update(extends=["clerk"])),
        ["extends", "cannot extend itself"],
        id="extends-itself",
    ),
    pytest.param(
        lambda d: (
            d["roles"]["clerk"].update(extends="visitor"),
            d["roles"]["visitor"].update(extends="clerk"),
        ),
        ["cycle", "clerk -> visitor -> clerk"],
        id="extends-cycle",
    ),
    # types and fields
    pytest.param(
        _clerk(lambda r: r.update(types=["Citizen"])), ["types", "mapping"], id="types-not-mapping"
    ),
    pytest.param(
        _clerk(lambda r: r["types"].update(Citzen="*")),
        ["role 'clerk'", "types.Citzen", "unknown type 'Citzen'", "did you mean 'Citizen'"],
        id="unknown-type",
    ),
    pytest.param(
        _clerk(lambda r: r["types"].update(Query="*")),
        ["types.Query", "under `query:`"],
        id="root-type-under-types",
    ),
    pytest.param(
        _clerk(lambda r: r["types"].update(Citizen=7)),
        ["types.Citizen", "expected"],
        id="type-entry-malformed",
    ),
    pytest.param(
        _citizen(lambda t: t.update(fields=["nik", "nikk"])),
        ["role 'clerk'", "types.Citizen.fields", "unknown field 'nikk'", "Citizen"],
        id="unknown-field",
    ),
    pytest.param(
        _citizen(lambda t: t.update(fields=["nik", "nik"])), ["listed twice"], id="duplicate-field"
    ),
    pytest.param(
        _citizen(lambda t: t.update(fields=[])),
        ["types.Citizen.fields", "non-empty"],
        id="empty-field-list",
    ),
    pytest.param(
        _citizen(lambda t: t.update(fields="all")),
        ["types.Citizen.fields", "expected"],
        id="fields-not-list",
    ),
    pytest.param(
        _citizen(lambda t: t.update(fields=[["nik"]])),
        ["expected a field name"],
        id="field-not-text",
    ),
    pytest.param(
        _citizen(lambda t: t.update(colour=1)),
        ["types.Citizen", "unknown key 'colour'"],
        id="unknown-type-key",
    ),
    pytest.param(
        _citizen(lambda t: t.update(hide=["religon"])),
        ["types.Citizen.hide", "unknown field 'religon'"],
        id="hide-unknown-field",
    ),
    pytest.param(
        _citizen(lambda t: t.update(fields=["nik", "fullName"], hide=["religion"])),
        ["types.Citizen.hide", "not shown", "religion"],
        id="hide-field-not-shown",
    ),
    pytest.param(
        _citizen(lambda t: t.update(hide=["nik", "fullName", "birthDate", "religion"])),
        ["hides every field"],
        id="hide-everything",
    ),
    # masks
    pytest.param(
        _citizen(lambda t: t.update(mask={"nik": "scramble"})),
        ["role 'clerk'", "types.Citizen.mask", "unknown mask 'scramble'"],
        id="unknown-mask",
    ),
    pytest.param(
        _citizen(lambda t: t.update(fields=["fullName"], mask={"nik": "nik"})),
        ["types.Citizen.mask", "masks a field that is not shown", "'nik'"],
        id="mask-on-hidden-field",
    ),
    pytest.param(
        _citizen(lambda t: t.update(mask=["nik"])),
        ["types.Citizen.mask", "mapping"],
        id="mask-not-mapping",
    ),
    # rows
    pytest.param(
        _citizen(lambda t: t.update(rows="own_village")),
        ["role 'clerk'", "types.Citizen.rows", "unknown row rule 'own_village'"],
        id="unknown-row-rule",
    ),
    pytest.param(
        _citizen(lambda t: t.update(rows=[{"rule": ["own_kelurahan", "nope"]}])),
        ["types.Citizen.rows.rule", "unknown row rule 'nope'"],
        id="unknown-rule-in-conjunction",
    ),
    pytest.param(
        _citizen(lambda t: t.update(rows=[{"fields": ["nik"]}])),
        ["needs `rule:`"],
        id="row-entry-without-rule",
    ),
    pytest.param(
        _citizen(lambda t: t.update(rows=[{"rule": []}])),
        ["at least one rule"],
        id="row-entry-empty-rule",
    ),
    pytest.param(
        _citizen(lambda t: t.update(rows=[{"rule": "all", "fields": ["nik"], "hide": ["nik"]}])),
        ["not both"],
        id="row-entry-fields-and-hide",
    ),
    pytest.param(
        _citizen(
            lambda t: t.update(
                fields=["nik", "fullName"], rows=[{"rule": "all", "fields": ["religion"]}]
            )
        ),
        ["types.Citizen.rows", "not shown", "religion"],
        id="row-narrowing-to-hidden-field",
    ),
    pytest.param(
        _citizen(lambda t: t.update(fields=["nik"], mask={}, rows="own_family_names_only")),
        ["own_family_names_only", "fullName"],
        id="shorthand-needs-hidden-field",
    ),
    pytest.param(
        _citizen(lambda t: t.update(rows=[])), ["types.Citizen.rows", "non-empty"], id="empty-rows"
    ),
    pytest.param(
        _citizen(lambda t: t.update(rows=[3])),
        ["types.Citizen.rows", "got 3"],
        id="row-entry-not-text",
    ),
    pytest.param(
        _citizen(lambda t: t.update(rows=[{"rule": "all", "when": 1}])),
        ["unknown key 'when'"],
        id="row-entry-unknown-key",
    ),
    pytest.param(
        _citizen(lambda t: t.update(deny="nobody")),
        ["types.Citizen.deny", "unknown row rule 'nobody'"],
        id="unknown-deny-rule",
    ),
    pytest.param(
        _citizen(lambda t: t.update(deny="own_family_names_only")),
        ["types.Citizen.deny", "unknown row rule"],
        id="deny-shorthand",
    ),
    # root fields
    pytest.param(
        _clerk(lambda r: r.update(query=["me", "citizenz"])),
        ["role 'clerk'", "query", "unknown field 'citizenz' of Query", "did you mean 'citizen'"],
        id="unknown-query-field",
    ),
    pytest.param(
        _clerk(lambda r: r.update(mutation=["delete"])),
        ["mutation", "unknown field 'delete' of Mutation"],
        id="unknown-mutation",
    ),
    pytest.param(
        _clerk(lambda r: r.update(query="me")), ["query", "expected"], id="query-not-list"
    ),
    pytest.param(
        _clerk(lambda r: r.update(subscription=["x"])),
        ["subscription", "no Subscription type"],
        id="root-type-missing",
    ),
    # limits
    pytest.param(
        _clerk(lambda r: r["limits"].update(max_cost=5)),
        ["limits", "unknown key 'max_cost'"],
        id="unknown-limit",
    ),
    pytest.param(
        _clerk(lambda r: r["limits"].update(max_query_cost=0)),
        ["limits.max_query_cost", "positive"],
        id="limit-not-positive",
    ),
    pytest.param(
        _clerk(lambda r: r["limits"].update(max_depth=True)),
        ["limits.max_depth", "positive"],
        id="limit-bool-as-number",
    ),
    pytest.param(
        _clerk(lambda r: r["limits"].update(introspection="yes please")),
        ["limits.introspection", "true or false"],
        id="limit-not-bool",
    ),
    pytest.param(
        _clerk(lambda r: r.update(limits=[1])), ["limits", "mapping"], id="limits-not-mapping"
    ),
    # top level
    pytest.param(lambda d: d.pop("version"), ["version: expected 1"], id="version-missing"),
    pytest.param(
        lambda d: d.update(version=2), ["version: expected 1, got 2"], id="version-unknown"
    ),
    pytest.param(
        lambda d: d.update(other_types="maybe"), ["other_types"], id="other-types-unknown"
    ),
    pytest.param(
        lambda d: d.update(rolez={}), ["top level", "unknown key 'rolez'"], id="unknown-top-key"
    ),
    pytest.param(
        lambda d: d.update(roles=[]), ["roles: expected a mapping"], id="roles-not-mapping"
    ),
]


@pytest.mark.parametrize(("change", "fragments"), BROKEN)
def test_loader_refuses_broken_policy_naming_the_culprit(
    tmp_path: Path, change: Callable[[dict[str, Any]], object], fragments: list[str]
) -> None:
    data = copy.deepcopy(BASE)
    change(data)
    path = _write(tmp_path, data)
    with pytest.raises(PolicyError) as caught:
        load_policy(path, catalogue=CATALOGUE, kinds={}, roles=ROLES)
    message = str(caught.value)
    assert caught.value.code == "POLICY_INVALID"
    assert message.startswith(str(path))
    for fragment in fragments:
        assert fragment in message


def test_sound_base_policy_loads(tmp_path: Path) -> None:
    policy = load_policy(_write(tmp_path, BASE), catalogue=CATALOGUE, kinds={}, roles=ROLES)
    assert policy.roles == ROLES
    assert policy.visible_fields("clerk", "Citizen") == CATALOGUE["Citizen"]
    assert policy.visible_fields("visitor", "Query") == {"me"}


def test_error_carries_role_and_entry_as_data(tmp_path: Path) -> None:
    data = copy.deepcopy(BASE)
    data["roles"]["clerk"]["types"]["Citizen"]["mask"] = {"nik": "scramble"}
    with pytest.raises(PolicyError) as caught:
        load_policy(_write(tmp_path, data), catalogue=CATALOGUE, kinds={}, roles=ROLES)
    assert (caught.value.role, caught.value.entry) == ("clerk", "types.Citizen.mask")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param(
            "version: 1\nroles: {clerk: {}, clerk: {}}\n",
            "duplicate key 'clerk'",
            id="duplicate-role",
        ),
        pytest.param("version: 1\nroles:\n  clerk: [\n", "not valid YAML", id="syntax-error"),
        pytest.param("- version\n- roles\n", "must hold a mapping", id="list-at-top"),
        pytest.param("", "must hold a mapping", id="empty-file"),
        pytest.param(
            "a: !!python/object/apply:os.system ['true']\n",
            "not valid YAML",
            id="python-tag-refused",
        ),
    ],
)
def test_loader_refuses_unreadable_files(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError, match="policy.yaml") as caught:
        load_policy(path, catalogue=CATALOGUE, kinds={}, roles=ROLES)
    assert fragment in str(caught.value)


def test_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read the file"):
        load_policy(tmp_path / "absent.yaml", catalogue=CATALOGUE, kinds={}, roles=ROLES)


def test_yaml_merge_keys_share_rules_between_roles(tmp_path: Path) -> None:
    text = """
version: 1
roles:
  clerk: &clerk
    types: {Citizen: {fields: [nik, fullName], mask: {nik: nik}}}
    query: [me, citizen]
  visitor:
    <<: *clerk
    query: [me]
"""
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    policy = load_policy(path, catalogue=CATALOGUE, kinds={}, roles=ROLES)
    assert policy.visible_fields("visitor", "Citizen") == {"nik", "fullName"}
    assert not policy.may_call("visitor", "Query", "citizen")


def test_role_set_is_configurable_or_open() -> None:
    data = copy.deepcopy(BASE)
    data["roles"]["janitor"] = {}
    assert "janitor" in parse_policy(data, catalogue=CATALOGUE, kinds={}, roles=None).roles
    with pytest.raises(PolicyError, match="missing 'janitor'"):
        parse_policy(BASE, catalogue=CATALOGUE, kinds={}, roles={"clerk", "visitor", "janitor"})


def test_a_role_the_code_relies_on_must_be_defined_by_the_file() -> None:
    assert parse_policy(BASE, catalogue=CATALOGUE, kinds={}, required={"clerk"}).roles == ROLES
    with pytest.raises(PolicyError, match="missing 'operator'"):
        parse_policy(BASE, catalogue=CATALOGUE, kinds={}, required={"clerk", "operator"})


def test_catalogue_must_map_types_to_field_names() -> None:
    with pytest.raises(PolicyError, match="catalogue entry 'Citizen'"):
        parse_policy(BASE, catalogue={"Citizen": "nik"}, kinds={}, roles=ROLES)  # type: ignore[dict-item]
