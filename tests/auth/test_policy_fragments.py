"""A plug-in's policy fragment grants existing roles its own types and root fields, and
nothing else (auth.policy._fragments)."""

from __future__ import annotations

import pytest

from auth.policy import PolicyError, PolicyFragment
from auth.policy._fragments import merge_fragments

FILE = {"version": 1, "roles": {
    "officer": {"types": {"Citizen": {"fields": ["nik"]}}, "query": ["citizen"]},
    "analyst": {"types": {}, "query": []},
}}


def fragment(roles: dict) -> PolicyFragment:
    return PolicyFragment("aid", {"roles": roles}, frozenset({"AidEnrolment"}), frozenset({"aidEnrolments"}))


def test_a_fragment_adds_its_types_and_root_fields_to_existing_roles() -> None:
    merged = merge_fragments(FILE, [fragment({"officer": {"types": {"AidEnrolment": "*"},
                                                          "query": ["aidEnrolments"]}})], source="p.yaml")
    assert merged["roles"]["officer"] == {"types": {"Citizen": {"fields": ["nik"]}, "AidEnrolment": "*"},
                                          "query": ["citizen", "aidEnrolments"]}
    assert FILE["roles"]["officer"]["query"] == ["citizen"]  # the file's data is not changed


def test_the_policy_file_wins_over_a_fragment() -> None:
    own = {"version": 1, "roles": {"officer": {"types": {"AidEnrolment": {"fields": ["number"]}}, "query": []}}}
    merged = merge_fragments(own, [fragment({"officer": {"types": {"AidEnrolment": "*"}}})], source="p.yaml")
    assert merged["roles"]["officer"]["types"]["AidEnrolment"] == {"fields": ["number"]}


@pytest.mark.parametrize(("grant", "message"), [
    ({"officer": {"types": {"Citizen": "*"}}}, "types the plug-in does not contribute"),
    ({"analyst": {"query": ["citizen"]}}, "root fields the plug-in does not contribute"),
    ({"analyst": {"query": "aidEnrolments"}}, "root fields the plug-in does not contribute"),
    ({"superuser": {"types": {"AidEnrolment": "*"}}}, "not defined by the policy file"),
    ({"officer": {"extends": "population_officer"}}, "may grant `types` and `query` only"),
    ({"officer": {"limits": {"max_query_cost": 10**9}}}, "may grant `types` and `query` only"),
])
def test_a_fragment_cannot_widen_anything_else(grant: dict, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        merge_fragments(FILE, [fragment(grant)], source="p.yaml")


def test_a_fragment_holds_roles_only() -> None:
    bad = PolicyFragment("aid", {"roles": {}, "other_types": "visible"}, frozenset(), frozenset())
    with pytest.raises(PolicyError, match="holds `roles` and nothing else"):
        merge_fragments(FILE, [bad], source="p.yaml")
