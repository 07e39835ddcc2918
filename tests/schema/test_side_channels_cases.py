"""Case numbers (issue 21, class 5): `X-Access-Case` must name a case that exists in its
source, and under it an operation reads only the case's records: the application and
its applicant, or the complaint and its reporter. Everything else is refused with
PURPOSE_REQUIRED and a reason that names no personal data, or (through a link) left out;
a source failure while checking the case refuses the operation; the ledger records the
case that was checked."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from auth.principal import Principal
from connectors.errors import SourceUnavailable
from connectors.records import ApplicationStatus, ComplaintVisibility
from tests.schema.harness import Execute, MemoryLedger
from tests.support.sample_world import World, build_world
from schema.sources import Sources

LICENSING = Principal("lic-1", frozenset({"licensing_officer"}), department="dpmptsp")
COMPLAINTS = Principal("pengaduan-1", frozenset({"complaint_officer"}), department="pengaduan")
# roles whose schemas reach citizens, families and a citizen's applications at the root,
# used with the licensing officer's case-bound purpose: the case, not the role, must
# stop what lies outside it
LICENSING_AND_POPULATION = Principal("lp-1", frozenset({"licensing_officer", "population_officer"}))
PERMIT = "permit-verification"
FOLLOW_UP = "complaint-follow-up"

APPLICATION = "query($n: String!) { application(number: $n) { number applicantName applicant { nik fullName } } }"
COMPLAINT = "query($n: String!) { complaint(number: $n) { number reporterNik reporter { nik fullName } } }"
CITIZEN = "query($nik: String!) { citizen(nik: $nik) { nik fullName } }"
SECOND_APPLICATION = "503/DPMPTSP/2025/000099-X9"
SECOND_COMPLAINT = "LPR-2025-0099Q"


@pytest.fixture
def world() -> World:
    """The sample world, where the first applicant has a second application and the
    first (public) complaint's reporter a second complaint."""
    base = build_world()
    first, complaint = base.applications[0], base.complaints[0]
    base.applications.append(dataclasses.replace(first, number=SECOND_APPLICATION))
    base.complaints.append(dataclasses.replace(complaint, number=SECOND_COMPLAINT, title="Lampu jalan mati"))
    return base


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


def assert_names_no_personal_data(body: dict[str, Any], world: World) -> None:
    """No NIK, family card number, name or address of anyone in the errors."""
    errors = repr(body.get("errors", []))
    assert not re.search(r"\d{16}", errors), errors
    for person in world.citizens:
        assert person.full_name not in errors and person.address not in errors


def source_calls(sources: Sources) -> dict[tuple[str, str], int]:
    return {(s.source_id, op): n for s in sources.all() for op, n in s.calls.items() if n}


# -- the case must exist, and be of the purpose's kind ---------------------------------


@pytest.mark.parametrize(
    ("principal", "purpose", "case", "kind"),
    [
        pytest.param(LICENSING, PERMIT, "503/DPMPTSP/2025/999999-X9", "application", id="unknown-application"),
        pytest.param(LICENSING, PERMIT, "LPR-2025-0000Q", "application", id="complaint-number-for-permit-verification"),
        pytest.param(COMPLAINTS, FOLLOW_UP, "LPR-2025-9999Q", "complaint", id="unknown-complaint"),
        pytest.param(COMPLAINTS, FOLLOW_UP, "503/DPMPTSP/2025/000001-X0", "complaint",
                     id="application-number-for-complaint-follow-up"),
    ],
)
async def test_a_case_that_its_source_does_not_hold_is_refused_before_anything_is_read(
    principal: Principal, purpose: str, case: str, kind: str,
    execute: Execute, world: World, ledger: MemoryLedger, sources: Sources,
) -> None:
    query, number = (APPLICATION, world.applications[0].number) if kind == "application" else (
        COMPLAINT, world.complaints[0].number)
    body = await execute(query, {"n": number}, principal=principal, purpose=purpose, case=case)
    assert body["data"] is None
    assert codes(body) == ["PURPOSE_REQUIRED"]
    message = body["errors"][0]["message"]
    assert f"existing {kind}" in message and repr(case) in message
    assert_names_no_personal_data(body, world)
    assert ledger.drafts == []
    source = "licensing" if kind == "application" else "complaints"
    operation = "applications_by_number" if kind == "application" else "complaints_by_number"
    assert source_calls(sources) == {(source, operation): 1}  # the look-up of the case, nothing else


async def test_a_case_is_looked_up_once_and_shares_the_operations_own_look_up(
    execute: Execute, world: World, sources: Sources
) -> None:
    application = world.applications[0]
    body = await execute(
        """query($n: String!) { application(number: $n) { applicantName applicant { fullName } }
           trackApplication(number: $n) { status } }""",
        {"n": application.number}, principal=LICENSING, purpose=PERMIT, case=application.number,
    )
    assert "errors" not in body, body
    assert body["data"]["application"]["applicant"]["fullName"] == world.citizens[0].full_name
    assert source_calls(sources) == {("licensing", "applications_by_number"): 1, ("population", "citizens_by_nik"): 1}
    sources.licensing.calls.clear()
    sources.population.calls.clear()
    verified = await execute(  # reads no application, yet the case is looked up: once
        """query($nik: String!) { verifyCitizen(nik: $nik, fullName: "x", birthDate: "1980-01-01") { nikFound } }""",
        {"nik": application.applicant_nik}, principal=LICENSING, purpose=PERMIT, case=application.number,
    )
    assert verified["data"] == {"verifyCitizen": {"nikFound": True}}
    assert source_calls(sources) == {("licensing", "applications_by_number"): 1, ("population", "citizens_by_nik"): 1}


# -- records that are not the case's ---------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "purpose", "query", "field"),
    [
        pytest.param(LICENSING, PERMIT, APPLICATION, "application", id="another-application"),
        pytest.param(LICENSING, PERMIT, 'query($n: String!) { trackApplication(number: $n) { applicantName } }',
                     "trackApplication", id="another-application-tracked"),
        pytest.param(COMPLAINTS, FOLLOW_UP, COMPLAINT, "complaint", id="another-complaint"),
        pytest.param(COMPLAINTS, FOLLOW_UP, 'query($n: String!) { trackComplaint(number: $n) { reporterNik } }',
                     "trackComplaint", id="another-complaint-tracked"),
    ],
)
async def test_another_record_of_the_cases_kind_is_refused_at_its_path(
    principal: Principal, purpose: str, query: str, field: str,
    execute: Execute, world: World, ledger: MemoryLedger, sources: Sources,
) -> None:
    if principal is LICENSING:
        case, other = world.applications[0].number, world.applications[2].number
    else:
        case, other = world.complaints[0].number, world.complaints[3].number  # both PUBLIC
    body = await execute(query, {"n": other}, principal=principal, purpose=purpose, case=case)
    assert body["data"] == {field: None}
    assert codes(body) == ["PURPOSE_REQUIRED"]
    assert body["errors"][0]["path"] == [field]
    assert "not part of the case" in body["errors"][0]["message"]
    assert_names_no_personal_data(body, world)
    assert ledger.drafts == []
    assert ("population", "citizens_by_nik") not in source_calls(sources)


async def test_the_cases_own_record_is_read_beside_a_refused_one(
    execute: Execute, world: World, ledger: MemoryLedger
) -> None:
    case, other = world.applications[0], world.applications[2]
    body = await execute(
        """query($a: String!, $b: String!) { a: application(number: $a) { number applicantName }
           b: application(number: $b) { number applicantName } }""",
        {"a": case.number, "b": other.number}, principal=LICENSING, purpose=PERMIT, case=case.number,
    )
    assert body["data"] == {"a": {"number": case.number, "applicantName": case.applicant_name}, "b": None}
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["b"], "PURPOSE_REQUIRED")]
    assert [(d.record_type, d.record_key) for d in ledger.drafts] == [("Application", case.applicant_nik)]


async def test_verifying_a_citizen_who_is_not_the_applicant_is_refused_without_a_look_up(
    execute: Execute, world: World, ledger: MemoryLedger, sources: Sources
) -> None:
    application, stranger = world.applications[0], world.citizens[4]
    body = await execute(
        """query($nik: String!, $name: String!) { verifyCitizen(nik: $nik, fullName: $name, birthDate: "1980-01-01")
           { nikFound matches } }""",
        {"nik": stranger.nik, "name": stranger.full_name}, principal=LICENSING, purpose=PERMIT, case=application.number,
    )
    assert body["data"] is None  # a non-null root field
    assert codes(body) == ["PURPOSE_REQUIRED"]
    assert_names_no_personal_data(body, world)
    assert ledger.drafts == [] and ("population", "citizens_by_nik") not in source_calls(sources)


async def test_a_citizen_who_is_not_the_applicant_is_refused_whether_or_not_the_nik_exists(
    execute: Execute, world: World, ledger: MemoryLedger, sources: Sources
) -> None:
    case = world.applications[0]
    stranger = world.citizens[4]
    unknown = stranger.nik[:-4] + "9999"
    answers = []
    for nik in (stranger.nik, unknown):
        body = await execute(CITIZEN, {"nik": nik}, principal=LICENSING_AND_POPULATION, purpose=PERMIT, case=case.number)
        assert body["data"] == {"citizen": None} and codes(body) == ["PURPOSE_REQUIRED"]
        assert_names_no_personal_data(body, world)
        answers.append(body["errors"])
    assert answers[0] == answers[1]  # the refusal cannot tell a resident from no one
    assert ledger.drafts == [] and ("population", "citizens_by_nik") not in source_calls(sources)
    shown = await execute(CITIZEN, {"nik": case.applicant_nik}, principal=LICENSING_AND_POPULATION,
                          purpose=PERMIT, case=case.number)
    assert shown["data"]["citizen"]["nik"] == case.applicant_nik  # the applicant, in full for this role set


async def test_a_family_card_is_not_part_of_any_case(execute: Execute, world: World, ledger: MemoryLedger) -> None:
    case = world.applications[0]
    body = await execute("query($n: String!) { family(number: $n) { members { fullName } } }",
                         {"n": world.citizens[0].family_number},
                         principal=LICENSING_AND_POPULATION, purpose=PERMIT, case=case.number)
    assert body["data"] == {"family": None} and codes(body) == ["PURPOSE_REQUIRED"]
    assert ledger.drafts == []


# -- lists -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "purpose", "query", "field", "operation"),
    [
        pytest.param(LICENSING, PERMIT, "{ applications(first: 10) { totalCount edges { node { applicantName } } } }",
                     "applications", ("licensing", "list_applications"), id="applications"),
        pytest.param(LICENSING, PERMIT,
                     # by name: the licensing officer sees applicant NIKs masked, so may not filter by one
                     '{ applications(first: 10, filter: {nameContains: "Budi"}) { edges { node { number applicantName } } } }',
                     "applications", ("licensing", "list_applications"), id="applications-of-the-applicant"),
        pytest.param(COMPLAINTS, FOLLOW_UP, "{ complaints(first: 10) { totalCount edges { node { reporter { fullName } } } } }",
                     "complaints", ("complaints", "list_complaints"), id="complaints"),
        pytest.param(LICENSING_AND_POPULATION, PERMIT, "{ citizens(first: 10) { edges { node { nik } } } }",
                     "citizens", ("population", "list_citizens"), id="citizens"),
    ],
)
async def test_a_root_listing_under_a_case_is_refused_before_it_is_fetched(
    principal: Principal, purpose: str, query: str, field: str, operation: tuple[str, str],
    execute: Execute, world: World, ledger: MemoryLedger, sources: Sources,
) -> None:
    case = world.applications[0].number if purpose == PERMIT else world.complaints[0].number
    body = await execute(query, principal=principal, purpose=purpose, case=case)
    assert body["data"] == {field: None}
    assert codes(body) == ["PURPOSE_REQUIRED"]
    assert "a list of" in body["errors"][0]["message"]
    assert_names_no_personal_data(body, world)
    assert operation not in source_calls(sources)  # no page, no count of what lies outside the case
    assert ledger.drafts == []


async def test_a_worklist_without_personal_data_needs_no_case(execute: Execute, world: World, sources: Sources) -> None:
    body = await execute("{ applications(first: 10) { edges { node { number status } } } }",
                         principal=LICENSING, purpose=PERMIT, case="503/DPMPTSP/2025/999999-X9")
    assert "errors" not in body
    assert len(body["data"]["applications"]["edges"]) == len(world.applications)
    assert ("licensing", "applications_by_number") not in source_calls(sources)  # no case to check


# -- links ---------------------------------------------------------------------------


async def test_the_applicant_and_the_reporter_of_the_case_are_read_through_their_links(
    execute: Execute, world: World, ledger: MemoryLedger
) -> None:
    application, complaint = world.applications[0], world.complaints[0]
    body = await execute(APPLICATION, {"n": application.number}, principal=LICENSING, purpose=PERMIT,
                         case=application.number)
    assert "errors" not in body, body
    applicant = body["data"]["application"]["applicant"]
    assert applicant["fullName"] == application.applicant_name and applicant["nik"][6:12] == "******"
    body = await execute(COMPLAINT, {"n": complaint.number}, principal=COMPLAINTS, purpose=FOLLOW_UP,
                         case=complaint.number)
    assert "errors" not in body, body
    assert body["data"]["complaint"]["reporter"]["nik"] == complaint.reporter_nik
    assert {(d.record_type, d.case) for d in ledger.drafts} == {
        ("Application", application.number), ("Citizen", application.number),
        ("Complaint", complaint.number), ("Citizen", complaint.number),
    }


async def test_a_citizens_other_applications_and_family_are_left_out_under_a_case(
    execute: Execute, world: World, ledger: MemoryLedger, sources: Sources
) -> None:
    case = world.applications[0]
    body = await execute(
        """query($nik: String!) { citizen(nik: $nik) { nik applications { number applicantName }
           family { number members { nik } } } }""",
        {"nik": case.applicant_nik}, principal=LICENSING_AND_POPULATION, purpose=PERMIT, case=case.number,
    )
    assert "errors" not in body, body
    citizen = body["data"]["citizen"]
    assert [a["number"] for a in citizen["applications"]] == [case.number]  # not SECOND_APPLICATION
    assert citizen["family"] is None
    assert ("population", "families_by_number") not in source_calls(sources)  # not even looked up
    assert {d.record_type for d in ledger.drafts} == {"Citizen", "Application"}
    assert {d.record_key for d in ledger.drafts} == {case.applicant_nik}  # no other family member
    without = await execute(
        "query($nik: String!) { citizen(nik: $nik) { applications { number } } }",
        {"nik": case.applicant_nik}, principal=LICENSING_AND_POPULATION, purpose="population-service",
    )
    assert {a["number"] for a in without["data"]["citizen"]["applications"]} == {case.number, SECOND_APPLICATION}


async def test_a_reporters_other_complaints_are_left_out_under_a_case(execute: Execute, world: World) -> None:
    case = world.complaints[0]
    assert case.visibility is ComplaintVisibility.PUBLIC
    reporter = next(c for c in world.citizens if c.nik == case.reporter_nik)
    officer = Principal("kp-1", frozenset({"kelurahan_officer", "complaint_officer"}), kelurahan=reporter.kelurahan_code)
    query = "query($nik: String!) { citizen(nik: $nik) { fullName complaints { number reporterNik } } }"
    body = await execute(query, {"nik": reporter.nik}, principal=officer, purpose=FOLLOW_UP, case=case.number)
    assert "errors" not in body, body
    assert [c["number"] for c in body["data"]["citizen"]["complaints"]] == [case.number]
    without = await execute(query, {"nik": reporter.nik}, principal=officer, purpose="population-service")
    assert {c["number"] for c in without["data"]["citizen"]["complaints"]} == {case.number, SECOND_COMPLAINT}


# -- writes --------------------------------------------------------------------------


async def test_a_status_change_of_another_application_is_refused_before_the_source_is_asked(
    execute: Execute, world: World, ledger: MemoryLedger, sources: Sources
) -> None:
    case, other = world.applications[1], world.applications[3]
    assert other.status is ApplicationStatus.FILE_CHECK
    update = 'mutation($n: String!) { updateApplicationStatus(number: $n, status: DATA_ENTRY) { number status } }'
    body = await execute(update, {"n": other.number}, principal=LICENSING, purpose=PERMIT, case=case.number)
    assert body["data"] is None and codes(body) == ["PURPOSE_REQUIRED"]
    assert ("licensing", "update_status") not in source_calls(sources)
    assert (await sources.licensing.applications_by_number([other.number]))[other.number].status is ApplicationStatus.FILE_CHECK
    assert ledger.drafts == []
    done = await execute(update, {"n": case.number}, principal=LICENSING, purpose=PERMIT, case=case.number)
    assert done["data"] == {"updateApplicationStatus": {"number": case.number, "status": "DATA_ENTRY"}}
    assert [(d.action, d.case) for d in ledger.drafts] == [("write", case.number)]


async def test_a_status_change_under_an_unknown_case_is_refused(
    execute: Execute, world: World, sources: Sources
) -> None:
    complaint = world.complaints[0]
    body = await execute(
        'mutation($n: String!) { updateComplaintStatus(number: $n, status: VERIFIED) { status } }',
        {"n": complaint.number}, principal=COMPLAINTS, purpose=FOLLOW_UP, case="LPR-2025-9999Q",
    )
    assert body["data"] is None and codes(body) == ["PURPOSE_REQUIRED"]
    assert ("complaints", "update_status") not in source_calls(sources)


# -- the source of the case is down -----------------------------------------------------


@pytest.mark.parametrize("kind", ["application", "complaint"])
async def test_a_source_outage_during_the_case_check_sends_no_personal_data(
    kind: str, execute: Execute, world: World, ledger: MemoryLedger, sources: Sources
) -> None:
    if kind == "application":
        source, principal, purpose, query, number = sources.licensing, LICENSING, PERMIT, APPLICATION, world.applications[0].number
    else:
        source, principal, purpose, query, number = sources.complaints, COMPLAINTS, FOLLOW_UP, COMPLAINT, world.complaints[0].number
    source.failure = SourceUnavailable(source.source_id, "connection refused")
    body = await execute(query, {"n": number}, principal=principal, purpose=purpose, case=number)
    assert body["data"] is None
    assert [(e["extensions"]["code"], e["extensions"]["source"]) for e in body["errors"]] == [
        ("SOURCE_UNAVAILABLE", source.source_id)
    ]
    assert_names_no_personal_data(body, world)
    assert ledger.drafts == [] and ("population", "citizens_by_nik") not in source_calls(sources)


async def test_a_source_outage_during_a_writes_case_check_changes_nothing(
    execute: Execute, world: World, sources: Sources
) -> None:
    application = world.applications[1]
    sources.licensing.failure = SourceUnavailable("licensing", "connection refused")
    body = await execute(
        'mutation($n: String!) { updateApplicationStatus(number: $n, status: DATA_ENTRY) { number } }',
        {"n": application.number}, principal=LICENSING, purpose=PERMIT, case=application.number,
    )
    assert body["data"] is None
    assert [(e["extensions"]["code"], e["extensions"]["source"]) for e in body["errors"]] == [
        ("SOURCE_UNAVAILABLE", "licensing")
    ]
    assert sources.licensing.calls["update_status"] == 0


# -- what the ledger records ------------------------------------------------------------


async def test_the_ledger_records_only_a_checked_case(execute: Execute, world: World, ledger: MemoryLedger) -> None:
    application = world.applications[0]
    unchecked = await execute(APPLICATION, {"n": application.number}, principal=LICENSING, purpose=PERMIT,
                              case="503/DPMPTSP/2025/999999-X9")
    assert unchecked["data"] is None and ledger.drafts == []
    body = await execute(APPLICATION, {"n": application.number}, principal=LICENSING, purpose=PERMIT,
                         case=f"  {application.number} ")
    assert "errors" not in body, body
    assert ledger.drafts and {d.case for d in ledger.drafts} == {application.number}


async def test_a_case_given_with_a_purpose_that_takes_none_is_neither_checked_nor_recorded(
    execute: Execute, world: World, ledger: MemoryLedger, sources: Sources
) -> None:
    """Purposes without a case kind work as before; a case header beside them could not be
    checked against anything, so the ledger does not carry it (it used to, unchecked)."""
    nik = world.citizens[4].nik
    body = await execute(CITIZEN, {"nik": nik}, case="503/DPMPTSP/2025/999999-X9")
    assert body["data"]["citizen"]["nik"] == nik
    assert [(d.record_key, d.purpose, d.case) for d in ledger.drafts] == [(nik, "population-service", None)]
    assert source_calls(sources) == {("population", "citizens_by_nik"): 1}
