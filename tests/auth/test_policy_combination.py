"""Several roles combine by the most permissive rule, without one role's rights leaking
into rows that only another role let through; scopes, limits and open types."""

from __future__ import annotations

from typing import Any

import pytest

from auth.decision import Decision
from auth.policy import (
    Access,
    AccessKind,
    Policy,
    PolicyError,
    RowScope,
    load_policy,
    most_permissive,
    parse_policy,
)
from auth.principal import Principal

CATALOGUE = {
    "Citizen": frozenset({"nik", "fullName", "birthDate", "religion"}),
    "PageInfo": frozenset({"hasNextPage", "endCursor"}),
    "Query": frozenset({"me", "citizen", "citizens", "stats"}),
    "Mutation": frozenset({"fix"}),
}


def policy_of(roles: dict[str, Any], other_types: str = "visible") -> Policy:
    data = {"version": 1, "other_types": other_types, "roles": roles}
    return parse_policy(data, catalogue=CATALOGUE, kinds={}, roles=None)


def holder(*roles: str, **claims: Any) -> Principal:
    return Principal(subject="someone", roles=frozenset(roles), **claims)


MIXED = policy_of(
    {
        "records": {
            "types": {
                "Citizen": {"fields": "*", "mask": {"birthDate": "redact"}, "rows": "own_kelurahan"}
            },
            "query": ["citizen", "citizens"],
            "limits": {"max_query_cost": 100, "introspection": False},
        },
        "clerk": {
            "types": {
                "Citizen": {
                    "fields": ["nik", "fullName", "birthDate"],
                    "mask": {"nik": "nik", "birthDate": "year"},
                }
            },
            "query": ["me"],
            "mutation": ["fix"],
            "limits": {"max_query_cost": 500, "max_depth": 5},
        },
        "self": {"types": {"Citizen": {"fields": "*", "rows": "own_nik"}}, "query": ["me"]},
        "stats": {"extends": "clerk", "query": ["stats"]},
    }
)


def test_field_access_takes_the_most_permissive_role() -> None:
    both = frozenset({"records", "clerk"})
    assert MIXED.field_access(both, "Citizen", "nik") == Access.FULL  # records shows it in full
    assert MIXED.field_access(both, "Citizen", "birthDate") == Access.masked(
        "year"
    )  # year beats redact
    assert MIXED.field_access(both, "Citizen", "religion") == Access.FULL
    assert MIXED.field_access("clerk", "Citizen", "religion") == Access.DENIED


def test_most_permissive_orders_full_masked_denied() -> None:
    assert most_permissive([Access.DENIED, Access.masked("redact"), Access.FULL]) == Access.FULL
    assert most_permissive([Access.masked("initials"), Access.masked("nik")]) == Access.masked(
        "nik"
    )
    assert most_permissive([]) == Access.DENIED
    assert AccessKind.FULL > AccessKind.MASKED > AccessKind.DENIED


def test_a_row_only_one_role_allows_is_shown_as_that_role_shows_it() -> None:
    principal = holder("clerk", "self", nik="1471081234560001")
    stranger = MIXED.row_access(principal, "Citizen", {"nik": "1471089999990009"})
    assert stranger.access("nik") == Access.masked("nik")  # only clerk allowed the row
    assert stranger.access("religion") == Access.DENIED
    assert stranger.decision.fields == {"nik", "fullName", "birthDate"}
    own = MIXED.row_access(principal, "Citizen", {"nik": "1471081234560001"})
    assert own.access("nik") == Access.FULL  # self allowed it too
    assert own.access("religion") == Access.FULL
    assert own.decision.fields is None


def test_row_is_allowed_when_any_role_allows_it() -> None:
    principal = holder("records", kelurahan="1471081001")
    assert not MIXED.row_decision(principal, "Citizen", {"kelurahan_code": "1471151002"}).allowed
    principal = holder("records", "clerk", kelurahan="1471081001")
    assert MIXED.row_decision(principal, "Citizen", {"kelurahan_code": "1471151002"}).allowed


def test_root_fields_and_limits_combine_most_permissively() -> None:
    both = frozenset({"records", "clerk"})
    assert MIXED.may_call(both, "Query", "citizens") and MIXED.may_call(both, "Mutation", "fix")
    assert not MIXED.may_call("records", "Mutation", "fix")
    limits = MIXED.limits(both)
    assert (limits.max_query_cost, limits.max_depth, limits.introspection) == (500, 5, False)
    assert MIXED.limits("self").max_query_cost is None


def test_an_extended_role_is_held_too() -> None:
    assert MIXED.expand({"stats"}) == {"stats", "clerk"}
    assert MIXED.may_call("stats", "Mutation", "fix")
    assert MIXED.visible_fields("stats", "Citizen") == {"nik", "fullName", "birthDate"}
    assert MIXED.visible_fields("stats", "Query") == {"me", "stats"}


def test_roles_the_policy_does_not_know_grant_nothing() -> None:
    intruder = holder("superuser", "root")
    assert not MIXED.row_decision(intruder, "Citizen", {"nik": "1"}).allowed
    assert MIXED.field_access(intruder.roles, "Citizen", "nik") == Access.DENIED
    assert not MIXED.may_call(intruder.roles, "Query", "me")
    assert MIXED.row_scope(intruder, "Citizen") == RowScope.none()


def test_types_no_role_names_follow_other_types() -> None:
    assert MIXED.visible_fields("self", "PageInfo") == CATALOGUE["PageInfo"]
    assert MIXED.field_access({"self"}, "PageInfo", "endCursor") == Access.FULL
    assert MIXED.row_decision(holder("self"), "PageInfo", {}).allowed
    closed = policy_of({"self": {"types": {"Citizen": "*"}}}, other_types="hidden")
    assert closed.visible_fields("self", "PageInfo") == frozenset()
    assert not closed.row_decision(holder("self"), "PageInfo", {}).allowed


def test_root_types_are_never_open() -> None:
    assert not MIXED.may_call("self", "Query", "stats")
    assert MIXED.field_access({"self"}, "Query", "stats") == Access.DENIED
    assert MIXED.field_access({"self"}, "Query", "me") == Access.FULL


def test_deny_rules_refuse_before_any_row_rule() -> None:
    policy = policy_of(
        {"officer": {"types": {"Citizen": {"rows": "all", "deny": "reveals_protected_reporter"}}}}
    )
    officer = holder("officer")
    hidden = {"nik": "1", "reached_as": "reporter", "visibility": "CONFIDENTIAL"}
    assert not policy.row_decision(officer, "Citizen", hidden).allowed
    assert policy.row_decision(officer, "Citizen", {**hidden, "visibility": "PUBLIC"}).allowed
    assert policy.row_decision(officer, "Citizen", {**hidden, "reached_as": "root"}).allowed


def test_narrowed_entries_add_up_and_a_full_entry_wins() -> None:
    rows = [
        {"rule": "tracked", "fields": ["nik"]},
        {"rule": "tracked", "fields": ["fullName"]},
        {"rule": ["tracked", "visibility_public"]},
    ]
    policy = policy_of({"viewer": {"types": {"Citizen": {"rows": rows}}}})
    viewer = holder("viewer")
    partial = policy.row_decision(
        viewer, "Citizen", {"reached_as": "tracking", "visibility": "CONFIDENTIAL"}
    )
    assert partial.fields == {"nik", "fullName"}
    assert (
        policy.row_decision(
            viewer, "Citizen", {"reached_as": "tracking", "visibility": "PUBLIC"}
        ).fields
        is None
    )


def test_record_values_may_be_enums() -> None:
    import enum

    class Visibility(enum.Enum):
        PUBLIC = "PUBLIC"

    policy = policy_of({"viewer": {"types": {"Citizen": {"rows": "visibility_public"}}}})
    assert policy.row_decision(
        holder("viewer"), "Citizen", {"visibility": Visibility.PUBLIC}
    ).allowed


# -- RowScope -------------------------------------------------------------------------


def test_scopes_of_several_entries_cover_all_their_rows() -> None:
    policy = policy_of({"mixed": {"types": {"Citizen": {"rows": ["own_nik", "own_kelurahan"]}}}})
    scope = policy.row_scope(holder("mixed", nik="1", kelurahan="K"), "Citizen")
    assert scope == RowScope.all()  # nik OR kelurahan cannot be one conjunction: a covering scope
    same_kind = RowScope(kelurahan_codes=("A",)).cover(RowScope(kelurahan_codes=("B", "A")))
    assert same_kind == RowScope(kelurahan_codes=("A", "B"))
    assert RowScope.none().cover(RowScope(niks=("1",))) == RowScope(niks=("1",))


def test_a_conjunction_intersects_scopes() -> None:
    a = RowScope(kelurahan_codes=("A", "B"), visibilities=("PUBLIC",))
    assert a.intersect(RowScope(kelurahan_codes=("B", "C"))) == RowScope(
        kelurahan_codes=("B",), visibilities=("PUBLIC",)
    )
    assert a.intersect(RowScope(kelurahan_codes=("C",))) == RowScope.none()
    assert a.intersect(RowScope.none()).empty


def test_scope_admits_matching_records_and_lists_its_filters() -> None:
    scope = RowScope(kelurahan_codes=("A",), visibilities=("PUBLIC",))
    assert scope.admits({"kelurahan_code": "A", "visibility": "PUBLIC"})
    assert not scope.admits({"kelurahan_code": "B", "visibility": "PUBLIC"})
    assert not RowScope.none().admits({})
    assert scope.filters() == {"kelurahan_codes": ("A",), "visibilities": ("PUBLIC",)}
    assert RowScope.all().is_all and not scope.is_all and not RowScope.none().is_all


def test_decision_is_a_small_shared_value() -> None:
    assert Decision.allow("ok").allowed and Decision.allow("ok").fields is None
    refused = Decision.deny("no")
    assert not refused and refused.reason == "no"
    with pytest.raises(AttributeError):
        refused.allowed = True  # type: ignore[misc]


def test_default_policy_file_ships_as_package_data() -> None:
    from importlib import resources

    assert resources.files("auth").joinpath("default_policy.yaml").is_file()
    with pytest.raises(
        PolicyError, match="^default_policy.yaml: role 'population_officer': types.Citizen"
    ):
        load_policy(catalogue=CATALOGUE, kinds={})  # this catalogue lacks the default's types


def test_access_applies_itself_to_a_value() -> None:
    assert Access.FULL.apply("Siti Rahmawati") == "Siti Rahmawati"
    assert Access.masked("initials").apply("Siti Rahmawati") == "S. R."
    assert Access.DENIED.apply("Siti Rahmawati") is None
    assert str(Access.masked("nik")) == "MASKED(nik)" and str(Access.DENIED) == "DENIED"


def test_public_names_are_exported() -> None:
    import auth.policy

    assert sorted(auth.policy.__all__) == auth.policy.__all__
    for name in auth.policy.__all__:
        assert hasattr(auth.policy, name), name
