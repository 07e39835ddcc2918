"""A mask follows the value: a role's masks and hides apply to every field of the same
value kind, decided when the policy loads; exceptions only where the file says so."""

from __future__ import annotations

from typing import Any

import pytest

from auth.kinds import ValueKind
from auth.policy import Access, AccessKind, PolicyError, parse_policy

CATALOGUE = {
    "Citizen": frozenset({"nik", "fullName", "birthDate", "religion"}),
    "Application": frozenset({"number", "applicantNik", "applicantName", "ownerNik"}),
    "Query": frozenset({"me"}),
}
KINDS = {
    ("Citizen", "nik"): ValueKind.NIK,
    ("Citizen", "fullName"): ValueKind.NAME,
    ("Citizen", "birthDate"): ValueKind.BIRTH_DATE,
    ("Application", "applicantNik"): ValueKind.NIK,
    ("Application", "ownerNik"): ValueKind.NIK,
    ("Application", "applicantName"): ValueKind.NAME,
}


def load(types: dict[str, Any], kinds: dict[tuple[str, str], ValueKind] = KINDS) -> Any:
    data = {"version": 1, "roles": {"clerk": {"types": types, "query": ["me"]}}}
    return parse_policy(data, catalogue=CATALOGUE, kinds=kinds, roles=None)


def test_a_nik_mask_on_one_type_masks_the_nik_under_every_other_name() -> None:
    policy = load({"Citizen": {"fields": "*", "mask": {"nik": "nik"}}, "Application": "*"})
    assert policy.field_access("clerk", "Application", "applicantNik") == Access.masked("nik")
    assert policy.field_access("clerk", "Application", "ownerNik") == Access.masked("nik")
    assert policy.field_access("clerk", "Application", "applicantName") is Access.FULL  # another kind


def test_a_hidden_kind_is_hidden_under_every_name() -> None:
    policy = load({"Citizen": "*", "Application": {"fields": "*", "hide": ["applicantNik"]}})
    assert policy.field_access("clerk", "Citizen", "nik") is Access.DENIED
    assert policy.field_access("clerk", "Application", "ownerNik") is Access.DENIED
    assert "nik" not in policy.visible_fields("clerk", "Citizen")


def test_hiding_beats_masking_and_a_fields_own_mask_is_kept() -> None:
    policy = load({
        "Citizen": {"fields": "*", "mask": {"nik": "nik"}},
        "Application": {"fields": "*", "hide": ["applicantNik"]},
    })
    assert policy.field_access("clerk", "Citizen", "nik") == Access.masked("nik")  # its own mask
    assert policy.field_access("clerk", "Application", "ownerNik") is Access.DENIED


def test_two_masks_of_one_kind_carry_the_least_revealing() -> None:
    policy = load({"Application": {"fields": "*", "mask": {"applicantNik": "nik", "ownerNik": "redact"}},
                   "Citizen": "*"})
    assert policy.field_access("clerk", "Citizen", "nik") == Access.masked("redact")


def test_an_explicit_exception_shows_the_field_in_full() -> None:
    policy = load({"Citizen": {"fields": "*", "mask": {"nik": "nik"}},
                   "Application": {"fields": "*", "unmasked": ["ownerNik"]}})
    assert policy.field_access("clerk", "Application", "ownerNik") is Access.FULL
    assert policy.field_access("clerk", "Application", "applicantNik") == Access.masked("nik")


def test_a_row_of_a_masked_kind_is_shaped_with_the_carried_mask() -> None:
    from auth.principal import Principal

    policy = load({"Citizen": {"fields": "*", "mask": {"nik": "nik"}}, "Application": "*"})
    row = policy.row_access(Principal("s", frozenset({"clerk"})), "Application", {})
    access = row.access("applicantNik")
    assert access.kind is AccessKind.MASKED and access.apply("1471081234560001") == "147108******0001"


def test_a_role_without_masks_sees_every_kind_as_before() -> None:
    policy = load({"Citizen": "*", "Application": "*"})
    for type_name, field_name in KINDS:
        assert policy.field_access("clerk", type_name, field_name) is Access.FULL


def test_leaving_a_field_out_of_fields_says_nothing_about_its_kind() -> None:
    policy = load({"Citizen": {"fields": ["fullName", "birthDate"]}, "Application": "*"})
    assert policy.field_access("clerk", "Application", "applicantNik") is Access.FULL


BROKEN = [
    pytest.param({"Citizen": {"fields": "*", "mask": {"nik": "nik"}},
                  "Application": {"fields": "*", "unmasked": ["applicantName"]}},
                 "NAME, which this role neither masks nor hides", id="exception-without-a-mask"),
    pytest.param({"Citizen": {"fields": "*", "mask": {"nik": "nik"}, "unmasked": ["religion"]}},
                 "carries no value kind", id="exception-for-a-field-of-no-kind"),
    pytest.param({"Citizen": {"fields": "*", "mask": {"nik": "nik"}, "unmasked": ["nik"]}},
                 "not both", id="masked-and-unmasked"),
    pytest.param({"Citizen": {"fields": ["fullName"], "unmasked": ["nik"]}},
                 "is not shown", id="exception-for-a-hidden-field"),
    pytest.param({"Citizen": {"fields": "*", "unmasked": "nik"}}, "expected a list", id="exception-not-a-list"),
    pytest.param({"Citizen": {"fields": "*", "mask": {"birthDate": "year"}}},
                 "discloses the BIRTH_DATE", id="full-nik-with-masked-birth-date"),
    pytest.param({"Citizen": {"fields": ["nik"]}, "Application": {"fields": "*", "hide": ["applicantNik"]}},
                 "hides every field", id="kinds-hide-every-field"),
]


@pytest.mark.parametrize(("types", "message"), BROKEN)
def test_the_loader_refuses(types: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        load(types)


def test_a_nik_shown_in_full_may_be_an_explicit_exception_to_a_birth_date_mask() -> None:
    policy = load({"Citizen": {"fields": "*", "mask": {"birthDate": "year"}, "unmasked": ["nik"]}})
    assert policy.field_access("clerk", "Citizen", "nik") is Access.FULL


def test_kinds_naming_a_field_the_schema_lacks_are_refused() -> None:
    with pytest.raises(PolicyError, match="Citizen.spouseNik, which the schema lacks"):
        load({"Citizen": "*"}, {**KINDS, ("Citizen", "spouseNik"): ValueKind.NIK})
