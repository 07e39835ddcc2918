from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from auth.policy import PolicyError
from auth.principal import ANONYMOUS, Principal
from auth.purposes import CASE_KINDS, PURPOSE_REQUIRED, PurposeRegistry, load_purposes, parse_purposes


@pytest.fixture(scope="module")
def registry() -> PurposeRegistry:
    return load_purposes()


def who(*roles: str, purpose: str | None = None) -> Principal:
    return Principal(subject="someone", roles=frozenset(roles), purpose=purpose)


def test_default_purposes_match_design(registry: PurposeRegistry) -> None:
    table = {code: (set(p.roles), p.case_kind) for code, p in registry.purposes.items()}
    assert table == {
        "population-service": ({"population_officer", "kelurahan_officer"}, None),
        "permit-verification": ({"licensing_officer"}, "application"),
        "complaint-follow-up": ({"complaint_officer"}, "complaint"),
        "self-service": ({"citizen"}, None),
        "statistics": ({"analyst"}, None),
        "audit": ({"auditor"}, None),
    }
    assert [p.case_required for p in registry.purposes.values()] == [p.case_kind is not None for p in registry.purposes.values()]
    statistics = registry.purposes["statistics"]
    assert statistics.description_id and statistics.description_en


@pytest.mark.parametrize(
    ("roles", "purpose", "case", "fragment"),
    [
        pytest.param(("population_officer",), None, None, "required", id="missing"),
        pytest.param(("population_officer",), "   ", None, "required", id="blank-is-missing"),
        pytest.param(
            ("population_officer",),
            "curiosity",
            None,
            "unknown purpose 'curiosity'",
            id="unknown-code",
        ),
        pytest.param(("population_officer",), "x" * 500, None, "...", id="long-code-shortened"),
        pytest.param(("population_officer",), "statistics", None, "not open", id="not-for-role"),
        pytest.param(
            ("licensing_officer",),
            "permit-verification",
            None,
            "requires X-Access-Case",
            id="case-required",
        ),
        pytest.param(
            ("complaint_officer",),
            "complaint-follow-up",
            "",
            "requires X-Access-Case",
            id="empty-case",
        ),
        pytest.param(
            ("licensing_officer",), "permit-verification", "A" * 65, "malformed", id="case-too-long"
        ),
        pytest.param(
            ("licensing_officer",), "permit-verification", "IZN 01", "malformed", id="case-space"
        ),
        pytest.param(
            ("licensing_officer",), "permit-verification", "<script>", "malformed", id="case-markup"
        ),
        pytest.param(
            ("licensing_officer",),
            "permit-verification",
            "../etc",
            "malformed",
            id="case-leading-dot",
        ),
        pytest.param(
            ("population_officer",),
            "population-service",
            "No\u00e9l",
            "malformed",
            id="case-non-ascii",
        ),
        pytest.param(("anonymous",), "self-service", None, "not open", id="anonymous"),
    ],
)
def test_purpose_is_refused(
    registry: PurposeRegistry,
    roles: tuple[str, ...],
    purpose: str | None,
    case: str | None,
    fragment: str,
) -> None:
    decision = registry.check(who(*roles), purpose, case)
    assert not decision.allowed
    assert decision.code == PURPOSE_REQUIRED
    assert fragment in decision.reason
    assert len(decision.reason) < 200


@pytest.mark.parametrize(
    ("roles", "purpose", "case"),
    [
        pytest.param(("population_officer",), "population-service", None, id="population"),
        pytest.param(("kelurahan_officer",), "population-service", None, id="kelurahan"),
        pytest.param(
            ("licensing_officer",),
            "permit-verification",
            "IZN/2024/000123",
            id="licensing-with-case",
        ),
        pytest.param(
            ("complaint_officer",),
            "complaint-follow-up",
            "LPR-2024-00042",
            id="complaints-with-case",
        ),
        pytest.param(("citizen",), "self-service", None, id="citizen"),
        pytest.param(("analyst",), "statistics", None, id="analyst"),
        pytest.param(("auditor",), "audit", None, id="auditor"),
        pytest.param(("analyst", "citizen"), "self-service", None, id="any-held-role"),
    ],
)
def test_purpose_is_accepted(
    registry: PurposeRegistry, roles: tuple[str, ...], purpose: str, case: str | None
) -> None:
    decision = registry.check(who(*roles), purpose, case)
    assert decision.allowed and decision.code is None
    assert (decision.purpose, decision.case) == (purpose, case)
    assert decision.case_kind == registry.purposes[purpose].case_kind
    assert (decision.case_kind is None) == (case is None)


def test_a_case_given_with_a_purpose_of_no_case_kind_is_not_part_of_the_decision(
    registry: PurposeRegistry,
) -> None:
    """It could not be checked against any source, so it never reaches the ledger (it
    used to be kept, unchecked)."""
    decision = registry.check(who("population_officer"), "population-service", "A" * 64)
    assert decision.allowed
    assert (decision.purpose, decision.case, decision.case_kind) == ("population-service", None, None)
    assert not registry.check(who("population_officer"), "population-service", "A" * 65).allowed  # still well-formed


def test_the_case_number_is_stripped(registry: PurposeRegistry) -> None:
    decision = registry.check(who("licensing_officer"), "permit-verification", "  IZN/1 ")
    assert (decision.case, decision.case_kind) == ("IZN/1", "application")


def test_anonymous_principal_has_no_purpose(registry: PurposeRegistry) -> None:
    assert not registry.check(ANONYMOUS, "self-service", None).allowed


def test_service_account_purpose_applies_when_header_is_absent(registry: PurposeRegistry) -> None:
    client = who("analyst", purpose="statistics")
    decision = registry.check(client, None, None)
    assert decision.allowed and decision.purpose == "statistics"
    assert registry.check(client, "statistics", None).allowed
    refused = registry.check(client, "audit", None)
    assert not refused.allowed and "may only use the purpose 'statistics'" in refused.reason


def test_service_account_with_case_bound_purpose_still_needs_a_case(
    registry: PurposeRegistry,
) -> None:
    client = who("licensing_officer", purpose="permit-verification")
    assert not registry.check(client, None, None).allowed
    assert registry.check(client, None, "IZN-1").case == "IZN-1"


@pytest.mark.parametrize("kind", CASE_KINDS)
def test_a_purpose_names_the_kind_of_case_it_needs(kind: str) -> None:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    data["purposes"]["audit"]["case"] = kind
    assert parse_purposes(data).purposes["audit"].case_kind == kind


def test_a_purpose_file_of_before_case_kinds_still_loads_without_cases() -> None:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    data["purposes"]["audit"]["case_required"] = False
    assert parse_purposes(data).purposes["audit"].case_kind is None


def test_purposes_open_to_roles(registry: PurposeRegistry) -> None:
    codes = [p.code for p in registry.for_roles({"kelurahan_officer", "citizen"})]
    assert codes == ["population-service", "self-service"]
    assert registry.for_roles({"operator"}) == ()


GOOD: dict[str, Any] = {
    "version": 1,
    "purposes": {
        "audit": {
            "description": {"id": "Audit", "en": "Audit"},
            "roles": ["auditor"],
        }
    },
}


def _purpose(change: Any) -> Any:
    def apply(data: dict[str, Any]) -> None:
        change(data["purposes"]["audit"])

    return apply


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        pytest.param(
            _purpose(lambda p: p.update(roles=["janitor"])),
            "unknown role 'janitor'",
            id="unknown-role",
        ),
        pytest.param(_purpose(lambda p: p.update(roles=[])), "non-empty list", id="no-roles"),
        pytest.param(
            _purpose(lambda p: p.update(case_required="yes")),
            "case_required",
            id="case-required-not-bool",
        ),
        pytest.param(
            _purpose(lambda p: p.update(case_required=True)),
            "`case: application` or `case: complaint`",
            id="case-required-without-its-kind",
        ),
        pytest.param(_purpose(lambda p: p.update(case="permit")), "case: expected one of", id="unknown-case-kind"),
        pytest.param(_purpose(lambda p: p.update(case=["application"])), "case: expected one of", id="case-kind-list"),
        pytest.param(
            _purpose(lambda p: p["description"].pop("en")), "`id` and `en`", id="english-missing"
        ),
        pytest.param(
            _purpose(lambda p: p["description"].update(id=" ")),
            "`id` and `en`",
            id="indonesian-blank",
        ),
        pytest.param(
            _purpose(lambda p: p.update(colour=1)), "unknown keys ['colour']", id="unknown-key"
        ),
        pytest.param(
            lambda d: d["purposes"].update({"Bad Code": d["purposes"]["audit"]}),
            "purpose 'Bad Code'",
            id="bad-code",
        ),
        pytest.param(
            lambda d: d["purposes"].update(other=None), "purpose 'other'", id="entry-empty"
        ),
        pytest.param(lambda d: d.update(version=3), "version", id="version"),
        pytest.param(lambda d: d.update(purposes={}), "purposes", id="no-purposes"),
        pytest.param(lambda d: d.update(extra=1), "expected a mapping", id="unknown-top-key"),
    ],
)
def test_broken_purpose_file_is_refused_naming_the_purpose(
    tmp_path: Path, change: Any, fragment: str
) -> None:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    change(data)
    path = tmp_path / "purposes.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_purposes(path, roles={"auditor", "analyst"})  # the loaded policy's roles
    assert str(caught.value).startswith(str(path))
    assert fragment in str(caught.value)


def test_purpose_roles_are_checked_against_the_configured_set() -> None:
    assert parse_purposes(GOOD, roles={"auditor"}).purposes["audit"].roles == {"auditor"}
    with pytest.raises(PolicyError, match="unknown role 'auditor'"):
        parse_purposes(GOOD, roles={"clerk"})
    assert parse_purposes(GOOD, roles=None).purposes


def _named(reason: str, registry: PurposeRegistry) -> set[str]:
    return {code for code in registry.purposes if code in reason}


@pytest.mark.parametrize("given", [None, "curiosity", "statistics"], ids=["missing", "unknown", "not-open"])
def test_a_refused_purpose_names_exactly_the_purposes_open_to_the_callers_roles(
    registry: PurposeRegistry, given: str | None
) -> None:
    """For every role of the default policy (and a pair of roles): the refusal lists the
    purposes its roles may give, and no other (the one given aside)."""
    roles = {role for p in registry.purposes.values() for role in p.roles} | {"anonymous", "operator"}
    for held in [*({r} for r in sorted(roles)), {"licensing_officer", "population_officer"}]:
        principal = who(*held)
        open_to = {p.code for p in registry.for_roles(held)}
        if given in open_to:
            continue
        decision = registry.check(principal, given, None)
        assert not decision.allowed and decision.code == PURPOSE_REQUIRED
        assert _named(decision.reason, registry) - {given} == open_to, (held, decision.reason)
        if not open_to:
            assert "may not read personal data" in decision.reason
        for code in open_to:
            case_kind = registry.purposes[code].case_kind
            if case_kind:
                assert f"{code} (with X-Access-Case: the {case_kind} number)" in decision.reason


def test_a_client_with_a_fixed_purpose_is_told_that_one(registry: PurposeRegistry) -> None:
    decision = registry.check(who("analyst", purpose="statistics"), "audit", None)
    assert not decision.allowed and "statistics" in decision.reason
    assert _named(decision.reason, registry) == {"statistics"}
