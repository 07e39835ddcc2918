"""Decisions served from the caches equal decisions computed from nothing.

A request's `Presenter` decides once per distinct value of the record keys the policy's
rules read (derived by running the rules, `auth.policy._reads`), and the policy keeps
its own caches (role expansion, per-type rules, outcomes, field maps). Here one warm
presenter meets many random records, and every answer is checked against a fresh copy
of the policy (all caches empty) and a fresh presenter: row access, the fields and
masks of the row, field access and scopes must agree. A cache key missing a key a rule
reads would hand one record's decision to another and fail here.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from auth.policy import Policy, ReachedAs, RowRule, load_policy
from auth.policy._reads import derive_reads
from auth.policy._rules import ROW_RULES, _CONSTANTS
from auth.principal import ANONYMOUS_ROLE, Principal
from schema.access import Presenter
from schema.value_kinds import value_kinds

CATALOGUE_FILE = Path(__file__).parents[1] / "auth" / "test_policy_catalogue.yaml"
_RAW = yaml.safe_load(CATALOGUE_FILE.read_text(encoding="utf-8"))
CATALOGUE = {name: frozenset(fields) for name, fields in _RAW.items()}
POLICY = load_policy(catalogue=CATALOGUE, kinds=value_kinds(CATALOGUE))
TYPES = ("Citizen", "Family", "Application", "Complaint", "Kelurahan", "PermitType")

NIKS = ("1471085505900002", "1471081212850001")
KELURAHAN = ("1471081001", "1471151002")
FAMILIES = ("1471080101000001", "1471080101000002")
ABSENT = object()

roles = st.frozensets(
    st.sampled_from(sorted(POLICY.roles | {"no_such_role"})), min_size=1, max_size=3
)
principals = st.builds(
    lambda rs, kel, nik: Principal(subject="p", roles=rs, kelurahan=kel, nik=nik),
    roles,
    st.sampled_from((*KELURAHAN, None)),
    st.sampled_from((*NIKS, None)),
)


def _value(*options: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from((*options, None, ABSENT))


#: every record key the rules read (and the presenter's family_number), with values
#: that match and miss each principal's claims
record_keys = st.fixed_dictionaries(
    {
        "nik": _value(*NIKS),
        "kelurahan_code": _value(*KELURAHAN),
        "family_number": _value(*FAMILIES),
        "applicant_nik": _value(*NIKS),
        "reporter_nik": _value(*NIKS),
        "visibility": _value("PUBLIC", "CONFIDENTIAL", "ANONYMOUS"),
        "family_of_principal": _value(True, False),
    }
)
reached = st.sampled_from(tuple(ReachedAs))


@st.composite
def batches(draw: st.DrawFn) -> list[tuple[str, dict[str, Any], ReachedAs]]:
    """Records of one type that are near each other: each is one of a few base records
    with at most one key changed, so records that differ in a single key (the ones a
    cache keyed by too few keys would confuse) meet the same warm presenter."""
    type_name = draw(st.sampled_from(TYPES))
    bases = draw(st.lists(record_keys, min_size=1, max_size=3))
    made = []
    for _ in range(draw(st.integers(1, 25))):
        keys = dict(draw(st.sampled_from(bases)))
        changed = draw(st.sampled_from((None, *sorted(keys))))
        if changed is not None:
            keys[changed] = draw(record_keys)[changed]
        made.append((type_name, keys, draw(reached)))
    return made


def _facts(keys: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in keys.items() if v is not ABSENT}


def _values(type_name: str) -> dict[str, Any]:
    return {name: f"{type_name}.{name}" for name in sorted(CATALOGUE[type_name])}


def _shape(presenter: Presenter, type_name: str, keys: dict[str, Any], reached_as: ReachedAs) -> Any:
    shaped = presenter.shape(type_name, _facts(keys), _values(type_name), reached_as=reached_as)
    return None if shaped is None else (shaped.values, shaped.row)


def _cold(policy: Policy) -> Policy:
    return dataclasses.replace(policy)  # the caches are not init fields: all empty


@settings(max_examples=300, deadline=None)
@given(
    principal=principals,
    family=st.sampled_from((*FAMILIES, None)),
    batch=batches(),
)
def test_cached_decisions_equal_decisions_computed_afresh(
    principal: Principal, family: str | None, batch: list[tuple[str, dict[str, Any], ReachedAs]]
) -> None:
    warm = Presenter(POLICY, principal, family_number=family)
    for type_name, keys, reached_as in batch:
        cold = Presenter(_cold(POLICY), principal, family_number=family)
        assert _shape(warm, type_name, keys, reached_as) == _shape(cold, type_name, keys, reached_as)
        record = {**_facts(keys), "reached_as": reached_as}
        assert POLICY.row_access(principal, type_name, record) == _cold(POLICY).row_access(
            principal, type_name, record
        )
        assert warm.scope(type_name) == cold.scope(type_name)


@settings(max_examples=200, deadline=None)
@given(principal_roles=roles, type_name=st.sampled_from((*TYPES, "Query", "Mutation")))
def test_cached_field_access_and_visibility_equal_fresh(principal_roles: frozenset[str], type_name: str) -> None:
    fresh = _cold(POLICY)
    for field_name in sorted(CATALOGUE[type_name]):
        assert POLICY.field_access(principal_roles, type_name, field_name) == fresh.field_access(
            principal_roles, type_name, field_name
        )
    assert POLICY.visible_fields(principal_roles, type_name) == fresh.visible_fields(principal_roles, type_name)
    assert POLICY.expand(principal_roles) == fresh.expand(set(principal_roles))
    assert POLICY.limits(principal_roles) == fresh.limits(principal_roles)


def test_the_derived_reads_of_the_shipped_rules_include_every_hand_declared_key() -> None:
    """The keys once declared by hand (before they were derived) are all still read."""
    declared = {
        "own_kelurahan": {"kelurahan_code"},
        "own_nik": {"nik"},
        "family_of_principal": {"family_of_principal"},
        "applicants_only": {"reached_as"},
        "reporters_of_visible_complaints": {"reached_as", "visibility"},
        "own_applications": {"applicant_nik"},
        "own_complaints": {"reporter_nik"},
        "public_complaints": {"visibility"},
        "tracked": {"reached_as"},
        "reveals_protected_reporter": {"reached_as", "visibility", "reporter_nik", "nik"},
    }
    for name, keys in declared.items():
        assert ROW_RULES[name].reads == keys, name


def _sneaky(principal: Principal, record: Any) -> bool:
    """Reads `visibility` only on one branch, and `nik` only when `reporter_nik` is absent."""
    if str(record.get("reached_as")) != ReachedAs.REPORTER:
        return False
    if record.get("visibility") != "PUBLIC":
        return True
    return record.get("reporter_nik", record.get("nik")) == principal.nik


def test_the_recorder_catches_a_key_a_hand_declared_list_left_out() -> None:
    # what a hand-written `reads` would plausibly have said: the first key looked at
    hand_declared = frozenset({"reached_as"})
    principal = Principal(subject="p", roles=frozenset({ANONYMOUS_ROLE}), nik=NIKS[0])
    one = {"reached_as": ReachedAs.REPORTER, "visibility": "PUBLIC", "reporter_nik": NIKS[1]}
    other = {"reached_as": ReachedAs.REPORTER, "visibility": "CONFIDENTIAL", "reporter_nik": NIKS[1]}
    # the two records agree on the declared keys, so a cache keyed by them would share
    # one decision between them, yet the rule tells them apart: a wrong shared decision
    assert all(one[k] == other[k] for k in hand_declared)
    assert _sneaky(principal, one) != _sneaky(principal, other)
    # the derived reads include every key any branch uses, so the cache keys differ
    derived = derive_reads(_sneaky, _CONSTANTS)
    assert derived == {"reached_as", "visibility", "reporter_nik", "nik"}
    rule = RowRule("sneaky", "test", _sneaky, lambda p: ROW_RULES["none"].scope(p))
    assert rule.reads >= derived


def test_role_sets_as_principals_carry_them_are_remembered_within_a_bound() -> None:
    policy = _cold(POLICY)
    for n in range(5000):
        given = frozenset({"citizen", f"unknown-{n}"})
        assert policy.expand(given) == {"citizen", ANONYMOUS_ROLE}
    assert len(policy._expanded_given) <= 1024
