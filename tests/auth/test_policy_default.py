"""The shipped policy reaches DESIGN.md's table, role by role."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from auth.policy import Access, Policy, RowScope, load_policy
from auth.principal import ANONYMOUS, Principal
from schema.value_kinds import value_kinds

CATALOGUE_FILE = Path(__file__).with_name("test_policy_catalogue.yaml")

OWN_KELURAHAN = "1471081001"
OTHER_KELURAHAN = "1471151002"
CITIZEN_NIK = "1471085505900002"
RELATIVE_NIK = "1471081212850001"
STRANGER_NIK = "1471081234560001"


@pytest.fixture(scope="module")
def catalogue() -> dict[str, frozenset[str]]:
    raw = yaml.safe_load(CATALOGUE_FILE.read_text(encoding="utf-8"))
    return {name: frozenset(fields) for name, fields in raw.items()}


@pytest.fixture(scope="module")
def policy(catalogue: Mapping[str, frozenset[str]]) -> Policy:
    return load_policy(catalogue=catalogue, kinds=value_kinds(catalogue))


def who(role: str, **claims: Any) -> Principal:
    if role == "anonymous":
        return ANONYMOUS
    return Principal(subject=f"{role}-1", roles=frozenset({role}), **claims)


def citizen_row(
    nik: str = STRANGER_NIK, kelurahan: str = OWN_KELURAHAN, **context: Any
) -> dict[str, Any]:
    return {"nik": nik, "family_number": "1471080101200003", "kelurahan_code": kelurahan, **context}


def application_row(
    applicant: str = STRANGER_NIK, kelurahan: str = OWN_KELURAHAN, **context: Any
) -> dict[str, Any]:
    return {
        "number": "IZN-2024-000001",
        "applicant_nik": applicant,
        "kelurahan_code": kelurahan,
        **context,
    }


def complaint_row(
    visibility: str = "PUBLIC",
    reporter: str | None = STRANGER_NIK,
    kelurahan: str = OWN_KELURAHAN,
    **context: Any,
) -> dict[str, Any]:
    return {
        "number": "LPR-2024-000001",
        "reporter_nik": reporter,
        "visibility": visibility,
        "kelurahan_code": kelurahan,
        **context,
    }


CITIZEN = who("citizen", nik=CITIZEN_NIK)
KELURAHAN_OFFICER = who("kelurahan_officer", kelurahan=OWN_KELURAHAN)


def test_default_policy_loads_against_the_agreed_catalogue(policy: Policy) -> None:
    assert policy.source == "default_policy.yaml"
    assert len(policy.roles) == 9
    assert policy.governed_types == {
        "Citizen",
        "Family",
        "Kelurahan",
        "Application",
        "Complaint",
        "PermitType",
    }


# -- fields ------------------------------------------------------------------------

MASKED_NIK = Access.masked("nik")


FIELD_TABLE = [
    ("population_officer", "Citizen", "religion", Access.FULL),
    ("population_officer", "Citizen", "disability", Access.FULL),
    ("population_officer", "Citizen", "complaints", Access.DENIED),
    ("population_officer", "Complaint", "title", Access.DENIED),
    ("kelurahan_officer", "Citizen", "fullName", Access.FULL),
    ("kelurahan_officer", "Citizen", "religion", Access.DENIED),
    ("kelurahan_officer", "Citizen", "bloodType", Access.DENIED),
    ("kelurahan_officer", "Citizen", "disability", Access.DENIED),
    ("licensing_officer", "Citizen", "nik", MASKED_NIK),
    ("licensing_officer", "Citizen", "fullName", Access.FULL),
    ("licensing_officer", "Citizen", "kelurahan", Access.FULL),
    ("licensing_officer", "Citizen", "birthDate", Access.DENIED),
    ("licensing_officer", "Citizen", "address", Access.DENIED),
    ("licensing_officer", "Complaint", "number", Access.DENIED),
    ("complaint_officer", "Complaint", "content", Access.FULL),
    ("complaint_officer", "Citizen", "religion", Access.DENIED),
    ("complaint_officer", "Application", "number", Access.DENIED),
    ("analyst", "Citizen", "nik", Access.DENIED),
    ("analyst", "Application", "status", Access.FULL),
    ("analyst", "Application", "applicantNik", Access.DENIED),
    ("analyst", "Application", "applicantName", Access.DENIED),
    ("analyst", "Application", "applicant", Access.DENIED),
    ("analyst", "Complaint", "category", Access.FULL),
    ("analyst", "Complaint", "content", Access.DENIED),
    ("analyst", "Complaint", "reporterNik", Access.DENIED),
    ("analyst", "Complaint", "reporter", Access.DENIED),
    ("auditor", "Citizen", "fullName", Access.DENIED),
    ("auditor", "Application", "number", Access.DENIED),
    ("citizen", "Citizen", "religion", Access.FULL),
    ("operator", "Citizen", "nik", Access.DENIED),
    ("operator", "Complaint", "status", Access.DENIED),
    ("anonymous", "Application", "status", Access.FULL),
    ("anonymous", "Application", "dueDate", Access.FULL),
    ("anonymous", "Application", "applicantName", Access.DENIED),
    ("anonymous", "Complaint", "title", Access.DENIED),
    ("anonymous", "Citizen", "fullName", Access.DENIED),
]


@pytest.mark.parametrize(
    ("role", "type_name", "field", "expected"),
    [pytest.param(*row, id="-".join(row[:3])) for row in FIELD_TABLE],
)
def test_field_access_by_role(
    policy: Policy, role: str, type_name: str, field: str, expected: Access
) -> None:
    assert policy.field_access(frozenset({role}), type_name, field) == expected


def test_fields_a_role_may_never_see_vanish_from_its_schema(
    policy: Policy, catalogue: Mapping[str, frozenset[str]]
) -> None:
    assert policy.visible_fields("kelurahan_officer", "Citizen") == catalogue["Citizen"] - {
        "religion",
        "bloodType",
        "disability",
    }
    assert policy.visible_fields("licensing_officer", "Citizen") == {"fullName", "nik", "kelurahan"}
    assert policy.visible_fields("operator", "Citizen") == frozenset()
    assert policy.visible_fields("anonymous", "Kelurahan") == catalogue["Kelurahan"]


# -- root fields ----------------------------------------------------------------------

ROOTS = {
    "population_officer": (
        {
            "me",
            "citizen",
            "citizens",
            "family",
            "verifyCitizen",
            "application",
            "applications",
            "serviceMetrics",
            "performanceReport",
            "satisfactionIndex",
        },
        set(),
    ),
    "kelurahan_officer": (
        {
            "me",
            "citizen",
            "citizens",
            "family",
            "verifyCitizen",
            "application",
            "applications",
            "complaint",
            "complaints",
            "serviceMetrics",
            "performanceReport",
            "satisfactionIndex",
        },
        set(),
    ),
    "licensing_officer": (
        {
            "me",
            "verifyCitizen",
            "application",
            "applications",
            "trackApplication",
            "permitTypes",
            "serviceMetrics",
            "performanceReport",
            "satisfactionIndex",
        },
        {"updateApplicationStatus", "markApplicationIncomplete"},
    ),
    "complaint_officer": (
        {
            "me",
            "complaint",
            "complaints",
            "trackComplaint",
            "serviceMetrics",
            "performanceReport",
            "satisfactionIndex",
        },
        {"updateComplaintStatus"},
    ),
    "analyst": (
        {
            "me",
            "application",
            "applications",
            "complaint",
            "complaints",
            "serviceMetrics",
            "performanceReport",
            "satisfactionIndex",
        },
        set(),
    ),
    # the public reports are public: every role may read them
    "auditor": ({"me", "accessLedger", "performanceReport", "satisfactionIndex"}, set()),
    "citizen": (
        {
            "me",
            "citizen",
            "family",
            "application",
            "applications",
            "complaint",
            "complaints",
            "trackApplication",
            "trackComplaint",
            "permitTypes",
            "performanceReport",
            "satisfactionIndex",
            "myAccessLog",
            "notificationsEnabled",
        },
        {"submitComplaint", "submitSatisfactionSurvey", "submitApplication", "completeApplication",
         "setNotifications"},
    ),
    "operator": ({"me", "sources", "performanceReport", "satisfactionIndex"}, set()),
    "anonymous": (
        {"me", "trackApplication", "trackComplaint", "permitTypes", "performanceReport", "satisfactionIndex"},
        {"submitComplaint", "submitSatisfactionSurvey"},
    ),
}


@pytest.mark.parametrize("role", sorted(ROOTS))
def test_each_role_calls_exactly_its_root_fields(
    policy: Policy, catalogue: Mapping[str, frozenset[str]], role: str
) -> None:
    queries, mutations = ROOTS[role]
    assert {f for f in catalogue["Query"] if policy.may_call(role, "Query", f)} == queries
    assert {f for f in catalogue["Mutation"] if policy.may_call(role, "Mutation", f)} == mutations
    assert policy.visible_fields(role, "Query") == queries


def test_only_auditors_read_the_ledger_and_only_operators_the_sources(policy: Policy) -> None:
    assert [r for r in sorted(policy.roles) if policy.may_call(r, "Query", "accessLedger")] == [
        "auditor"
    ]
    assert [r for r in sorted(policy.roles) if policy.may_call(r, "Query", "sources")] == [
        "operator"
    ]


# -- rows: population and kelurahan officers ------------------------------------------


def test_population_officer_sees_every_resident(policy: Policy) -> None:
    officer = who("population_officer")
    assert policy.row_decision(officer, "Citizen", citizen_row(kelurahan=OTHER_KELURAHAN)).allowed
    assert policy.row_scope(officer, "Citizen") == RowScope.all()


def test_kelurahan_officer_sees_residents_of_its_kelurahan_only(policy: Policy) -> None:
    assert policy.row_decision(KELURAHAN_OFFICER, "Citizen", citizen_row()).allowed
    refused = policy.row_decision(
        KELURAHAN_OFFICER, "Citizen", citizen_row(kelurahan=OTHER_KELURAHAN)
    )
    assert not refused.allowed
    assert "own_kelurahan" in refused.reason
    assert policy.row_scope(KELURAHAN_OFFICER, "Citizen") == RowScope(
        kelurahan_codes=(OWN_KELURAHAN,)
    )


def test_kelurahan_officer_without_a_kelurahan_claim_sees_nothing(policy: Policy) -> None:
    officer = who("kelurahan_officer")
    assert not policy.row_decision(officer, "Citizen", citizen_row()).allowed
    assert policy.row_scope(officer, "Citizen") == RowScope.none()


@pytest.mark.parametrize("type_name", ["Application", "Family"])
def test_kelurahan_officer_sees_applications_and_families_of_its_kelurahan(
    policy: Policy, type_name: str
) -> None:
    assert policy.row_decision(KELURAHAN_OFFICER, type_name, application_row()).allowed
    assert not policy.row_decision(
        KELURAHAN_OFFICER, type_name, application_row(kelurahan=OTHER_KELURAHAN)
    ).allowed


def test_kelurahan_officer_sees_reporter_of_public_complaint_only(policy: Policy) -> None:
    public = policy.row_access(KELURAHAN_OFFICER, "Complaint", complaint_row("PUBLIC"))
    assert public.access("reporterNik") == Access.FULL
    assert public.decision.fields is None
    for visibility in ("CONFIDENTIAL", "ANONYMOUS"):
        hidden = policy.row_access(KELURAHAN_OFFICER, "Complaint", complaint_row(visibility))
        assert hidden.allowed
        assert hidden.access("reporterNik") == Access.DENIED
        assert hidden.access("reporter") == Access.DENIED
        assert hidden.access("content") == Access.FULL
        assert hidden.decision.fields is not None and "reporterNik" not in hidden.decision.fields
    assert not policy.row_decision(
        KELURAHAN_OFFICER, "Complaint", complaint_row(kelurahan=OTHER_KELURAHAN)
    ).allowed


def test_kelurahan_officer_cannot_link_a_resident_to_a_confidential_complaint(
    policy: Policy,
) -> None:
    as_reporter = citizen_row(reached_as="reporter", visibility="CONFIDENTIAL")
    refused = policy.row_decision(KELURAHAN_OFFICER, "Citizen", as_reporter)
    assert not refused.allowed and "reveals_protected_reporter" in refused.reason
    through_citizen = complaint_row("ANONYMOUS", reached_as="of_citizen")
    assert not policy.row_decision(KELURAHAN_OFFICER, "Complaint", through_citizen).allowed
    assert policy.row_decision(
        KELURAHAN_OFFICER, "Complaint", complaint_row("PUBLIC", reached_as="of_citizen")
    ).allowed


# -- rows: licensing and complaint officers -------------------------------------------


def test_licensing_officer_sees_citizens_only_as_applicants_with_masked_nik(policy: Policy) -> None:
    officer = who("licensing_officer")
    access = policy.row_access(officer, "Citizen", citizen_row(reached_as="applicant"))
    assert access.allowed
    assert access.access("nik").apply(STRANGER_NIK) == "147108******0001"
    assert set(access.fields) == {"fullName", "nik", "kelurahan"}
    for reached_as in ("root", "reporter", "family_member"):
        assert not policy.row_decision(
            officer, "Citizen", citizen_row(reached_as=reached_as)
        ).allowed
    assert not policy.row_decision(officer, "Citizen", citizen_row()).allowed
    assert policy.row_scope(officer, "Citizen") == RowScope.none()
    assert policy.row_scope(officer, "Application") == RowScope.all()


def test_complaint_officer_sees_reporters_of_public_complaints_only(policy: Policy) -> None:
    officer = who("complaint_officer")
    assert policy.row_decision(
        officer, "Citizen", citizen_row(reached_as="reporter", visibility="PUBLIC")
    ).allowed
    for visibility in ("CONFIDENTIAL", "ANONYMOUS"):
        row = citizen_row(reached_as="reporter", visibility=visibility)
        assert not policy.row_decision(officer, "Citizen", row).allowed
    assert not policy.row_decision(officer, "Citizen", citizen_row()).allowed
    assert policy.row_scope(officer, "Citizen") == RowScope.none()


def test_complaint_officer_handles_every_complaint_but_never_learns_a_protected_reporter(
    policy: Policy,
) -> None:
    officer = who("complaint_officer")
    assert (
        policy.row_access(officer, "Complaint", complaint_row("PUBLIC")).access("reporterNik")
        == Access.FULL
    )
    for visibility in ("CONFIDENTIAL", "ANONYMOUS"):
        access = policy.row_access(
            officer, "Complaint", complaint_row(visibility, kelurahan=OTHER_KELURAHAN)
        )
        assert access.allowed
        assert access.access("reporterNik") == Access.DENIED
        assert access.access("reporter") == Access.DENIED
        assert access.access("status") == Access.FULL
    assert policy.row_scope(officer, "Complaint") == RowScope.all()


# -- rows: citizens --------------------------------------------------------------------


def test_citizen_sees_own_record_in_full(policy: Policy) -> None:
    own = policy.row_access(CITIZEN, "Citizen", citizen_row(CITIZEN_NIK))
    assert own.allowed and own.decision.fields is None
    assert own.access("religion") == Access.FULL


def test_citizen_sees_family_members_names_only(policy: Policy) -> None:
    for reached_as in ("family_member", "root"):
        row = citizen_row(RELATIVE_NIK, reached_as=reached_as, family_of_principal=True)
        access = policy.row_access(CITIZEN, "Citizen", row)
        assert access.allowed
        assert access.decision.fields == {"fullName"}
        assert dict(access.fields) == {"fullName": Access.FULL}


def test_citizen_sees_no_one_outside_the_family(policy: Policy) -> None:
    assert not policy.row_decision(CITIZEN, "Citizen", citizen_row(STRANGER_NIK)).allowed
    stranger_in_other_family = citizen_row(
        STRANGER_NIK, reached_as="family_member", family_of_principal=False
    )
    assert not policy.row_decision(CITIZEN, "Citizen", stranger_in_other_family).allowed
    assert policy.row_scope(CITIZEN, "Citizen") == RowScope(niks=(CITIZEN_NIK,))


def test_citizen_sees_own_family_card_only(policy: Policy) -> None:
    assert policy.row_decision(
        CITIZEN, "Family", {"number": "1", "family_of_principal": True}
    ).allowed
    assert not policy.row_decision(CITIZEN, "Family", {"number": "2"}).allowed


def test_citizen_sees_own_applications_and_others_only_by_tracking(policy: Policy) -> None:
    own = policy.row_access(CITIZEN, "Application", application_row(CITIZEN_NIK))
    assert own.access("applicantName") == Access.FULL
    assert not policy.row_decision(CITIZEN, "Application", application_row(STRANGER_NIK)).allowed
    tracked = policy.row_access(
        CITIZEN, "Application", application_row(STRANGER_NIK, reached_as="tracking")
    )
    assert tracked.allowed
    assert tracked.access("status") == Access.FULL
    assert tracked.access("applicantName") == Access.DENIED
    assert policy.row_scope(CITIZEN, "Application") == RowScope(applicant_niks=(CITIZEN_NIK,))


def test_citizen_sees_own_anonymous_complaint_with_themselves_as_reporter(policy: Policy) -> None:
    own = policy.row_access(CITIZEN, "Complaint", complaint_row("ANONYMOUS", reporter=CITIZEN_NIK))
    assert own.access("reporterNik") == Access.FULL
    as_reporter = citizen_row(CITIZEN_NIK, reached_as="reporter", visibility="CONFIDENTIAL")
    assert policy.row_decision(CITIZEN, "Citizen", as_reporter).allowed
    assert policy.row_scope(CITIZEN, "Complaint") == RowScope(reporter_niks=(CITIZEN_NIK,))


def test_citizen_without_a_nik_claim_sees_no_personal_rows(policy: Policy) -> None:
    nameless = who("citizen")
    assert not policy.row_decision(nameless, "Citizen", {"nik": None}).allowed
    assert not policy.row_decision(nameless, "Complaint", complaint_row(reporter=None)).allowed
    assert policy.row_scope(nameless, "Citizen") == RowScope.none()


# -- rows: the public, analysts, auditors and operators --------------------------------


def test_anonymous_tracks_an_application_without_personal_data(policy: Policy) -> None:
    tracked = policy.row_access(ANONYMOUS, "Application", application_row(reached_as="tracking"))
    assert tracked.allowed
    assert tracked.access("status") == Access.FULL
    assert tracked.access("applicantNik") == Access.DENIED
    assert not policy.row_decision(ANONYMOUS, "Application", application_row()).allowed
    assert policy.row_scope(ANONYMOUS, "Application") == RowScope.none()


def test_anonymous_tracks_a_confidential_complaint_by_progress_only(policy: Policy) -> None:
    public = policy.row_access(
        ANONYMOUS, "Complaint", complaint_row("PUBLIC", reached_as="tracking")
    )
    assert public.access("category") == Access.FULL
    confidential = policy.row_access(
        ANONYMOUS, "Complaint", complaint_row("CONFIDENTIAL", reached_as="tracking")
    )
    assert confidential.allowed
    assert confidential.decision.fields == {
        "number",
        "submittedAt",
        "status",
        "statusLabel",
        "sourceStatus",
        "history",
    }
    assert confidential.access("category") == Access.DENIED


def test_anonymous_sees_no_citizen(policy: Policy) -> None:
    refused = policy.row_decision(
        ANONYMOUS, "Citizen", citizen_row(reached_as="reporter", visibility="PUBLIC")
    )
    assert not refused.allowed
    assert "may see Citizen" in refused.reason


def test_analyst_reads_every_application_without_personal_fields(policy: Policy) -> None:
    access = policy.row_access(
        who("analyst"), "Application", application_row(kelurahan=OTHER_KELURAHAN)
    )
    assert access.allowed
    assert access.access("permitType") == Access.FULL
    assert access.access("applicantNik") == Access.DENIED
    assert not policy.row_decision(who("analyst"), "Citizen", citizen_row()).allowed


@pytest.mark.parametrize("role", ["auditor", "operator"])
@pytest.mark.parametrize("type_name", ["Citizen", "Family", "Application", "Complaint"])
def test_auditors_and_operators_see_no_personal_records(
    policy: Policy, role: str, type_name: str
) -> None:
    assert not policy.row_decision(who(role), type_name, citizen_row()).allowed
    assert policy.row_scope(who(role), type_name) == RowScope.none()


def test_refusal_reasons_carry_no_personal_data(policy: Policy) -> None:
    refused = policy.row_decision(CITIZEN, "Citizen", citizen_row(STRANGER_NIK))
    assert STRANGER_NIK not in refused.reason and CITIZEN_NIK not in refused.reason


def test_limits_are_placeholders_per_role(policy: Policy) -> None:
    assert policy.limits("anonymous").introspection is False
    assert policy.limits("analyst").max_query_cost == 10000
    assert policy.limits("citizen").introspection is True  # citizen extends anonymous: widest wins
