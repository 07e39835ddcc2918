"""Purposes and the access ledger as seen from the schema: what needs a purpose, what
is recorded, and that nothing leaves when the ledger cannot be written."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from auth.principal import ANONYMOUS, Principal
from tests.schema.harness import POPULATION_OFFICER, Execute, MemoryLedger
from tests.support.sample_world import SIMPANG_BARU, World
from schema.context import Context, Environment
from schema.sources import Sources

LICENSING = Principal("lic-1", frozenset({"licensing_officer"}), department="dpmptsp")
CITIZEN_QUERY = "query($nik: String!) { citizen(nik: $nik) { nik fullName address } }"


async def test_without_a_purpose_no_personal_data_is_returned(execute: Execute, world: World, ledger: MemoryLedger) -> None:
    body = await execute(CITIZEN_QUERY, {"nik": world.citizens[0].nik}, purpose=None)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "PURPOSE_REQUIRED"
    assert ledger.drafts == []
    assert body["trace"].calls() == 0  # refused before any source was asked


async def test_a_purpose_of_another_role_is_refused(execute: Execute, world: World) -> None:
    body = await execute(CITIZEN_QUERY, {"nik": world.citizens[0].nik}, purpose="statistics")
    assert body["errors"][0]["extensions"]["code"] == "PURPOSE_REQUIRED"


async def test_a_purpose_that_needs_a_case_number_is_refused_without_one(execute: Execute) -> None:
    body = await execute("{ applications(first: 5) { edges { node { applicantName } } } }",
                         principal=LICENSING, purpose="permit-verification")
    assert body["errors"][0]["extensions"]["code"] == "PURPOSE_REQUIRED"
    assert "X-Access-Case" in body["errors"][0]["message"]


async def test_queries_without_personal_fields_need_no_purpose(execute: Execute) -> None:
    body = await execute("{ applications(first: 5) { edges { node { number status } } } }",
                         principal=LICENSING, purpose=None)
    assert "errors" not in body and len(body["data"]["applications"]["edges"]) == 5


async def test_one_entry_per_record_with_the_fields_returned(execute: Execute, world: World, ledger: MemoryLedger) -> None:
    nik = world.citizens[0].nik
    await execute(CITIZEN_QUERY, {"nik": nik})
    assert len(ledger.drafts) == 1
    draft = ledger.drafts[0]
    assert (draft.record_type, draft.record_key, sorted(draft.fields)) == ("Citizen", nik, ["address", "fullName", "nik"])
    assert list(draft.masked_fields) == []
    assert draft.purpose == "population-service" and draft.subject == "officer-1"
    assert draft.document_hash and draft.request_id == "test"


async def test_records_reached_through_links_are_ledgered_with_their_masks(
    execute: Execute, world: World, ledger: MemoryLedger
) -> None:
    application = world.applications[0]
    body = await execute(
        "query($n: String!) { application(number: $n) { number applicantName applicant { nik fullName } } }",
        {"n": application.number}, principal=LICENSING, purpose="permit-verification", case=application.number,
    )
    assert "errors" not in body
    assert [(d.record_type, d.record_key) for d in ledger.drafts] == [
        ("Application", application.applicant_nik), ("Citizen", application.applicant_nik),
    ]
    citizen = ledger.drafts[1]
    assert sorted(citizen.fields) == ["fullName", "nik"]
    assert list(citizen.masked_fields) == ["nik"]
    assert {d.case for d in ledger.drafts} == {application.number}
    assert body["data"]["application"]["applicant"]["nik"][6:12] == "******"


async def test_family_members_are_ledgered_too(execute: Execute, world: World, ledger: MemoryLedger) -> None:
    await execute("query($nik: String!) { citizen(nik: $nik) { family { members { fullName } } } }",
                  {"nik": world.citizens[0].nik})
    keys = {(d.record_type, d.record_key) for d in ledger.drafts}
    family = world.citizens[0].family_number
    assert {("Citizen", c.nik) for c in world.citizens if c.family_number == family} <= keys


async def test_when_the_ledger_cannot_be_written_no_personal_data_leaves(
    execute: Execute, world: World, ledger: MemoryLedger
) -> None:
    ledger.fail = True
    body = await execute(CITIZEN_QUERY, {"nik": world.citizens[0].nik})
    assert body["data"] is None
    assert body["errors"] == [{"message": "The access ledger could not be written, so no data is sent; try again later",
                               "extensions": {"code": "LEDGER_UNAVAILABLE"}}]


async def test_a_citizen_sees_family_members_by_name_only(execute: Execute, world: World) -> None:
    me = world.citizens[0]
    citizen = Principal("warga", frozenset({"citizen"}), nik=me.nik)
    body = await execute(
        "query($nik: String!) { citizen(nik: $nik) { nik family { members { nik fullName address } } } }",
        {"nik": me.nik}, principal=citizen, purpose="self-service",
    )
    assert body["data"]["citizen"]["nik"] == me.nik
    for member in body["data"]["citizen"]["family"]["members"]:
        if member["fullName"] == me.full_name:
            assert member["nik"] == me.nik
        else:
            assert member["nik"] is None and member["address"] is None


async def test_a_citizen_cannot_read_another_citizen(execute: Execute, world: World) -> None:
    citizen = Principal("warga", frozenset({"citizen"}), nik=world.citizens[0].nik)
    other = world.citizens[5]
    body = await execute(CITIZEN_QUERY, {"nik": other.nik}, principal=citizen, purpose="self-service")
    assert body["data"] == {"citizen": None}
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["path"] == ["citizen"]


async def test_a_kelurahan_officer_is_refused_a_resident_of_another_kelurahan(execute: Execute, world: World) -> None:
    officer = Principal("k", frozenset({"kelurahan_officer"}), kelurahan=SIMPANG_BARU)
    outsider = next(c for c in world.citizens if c.kelurahan_code != SIMPANG_BARU)
    body = await execute(CITIZEN_QUERY, {"nik": outsider.nik}, principal=officer)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_anonymous_tracking_shows_progress_but_no_personal_data(execute: Execute, world: World) -> None:
    application = world.applications[0]
    body = await execute(
        "query($n: String!) { trackApplication(number: $n) { number status dueDate history { status at } } }",
        {"n": application.number}, principal=ANONYMOUS, purpose=None,
    )
    assert body["data"]["trackApplication"]["number"] == application.number
    assert application.applicant_name not in str(body) and application.applicant_nik not in str(body)
    refused = await execute("query($n: String!) { trackApplication(number: $n) { applicantName } }",
                            {"n": application.number}, principal=ANONYMOUS, purpose=None)
    assert refused["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_a_confidential_complaint_tracked_anonymously_shows_only_its_progress(execute: Execute, world: World) -> None:
    confidential = next(c for c in world.complaints if c.visibility.value == "CONFIDENTIAL")
    body = await execute(
        "query($n: String!) { trackComplaint(number: $n) { number status category kelurahan { name } } }",
        {"n": confidential.number}, principal=ANONYMOUS, purpose=None,
    )
    tracked = body["data"]["trackComplaint"]
    assert tracked["number"] == confidential.number and tracked["status"] == "RECEIVED"
    assert tracked["category"] is None and tracked["kelurahan"] is None


async def test_verify_citizen_answers_per_field_without_disclosing(execute: Execute, world: World, ledger: MemoryLedger) -> None:
    person = world.citizens[0]
    application = next(a for a in world.applications if a.applicant_nik == person.nik)
    body = await execute(
        """query($nik: String!, $name: String!, $born: Date!) { verifyCitizen(nik: $nik, fullName: $name, birthDate: $born)
           { nikFound fullNameMatches birthDateMatches matches } }""",
        {"nik": person.nik, "name": person.full_name.upper(), "born": "1999-01-01"},
        principal=LICENSING, purpose="permit-verification", case=application.number,
    )
    assert body["data"]["verifyCitizen"] == {
        "nikFound": True, "fullNameMatches": True, "birthDateMatches": False, "matches": False,
    }
    assert [(d.record_type, d.record_key) for d in ledger.drafts] == [("CitizenVerification", person.nik)]


async def test_a_status_change_is_ledgered_as_a_write_with_its_purpose(
    execute: Execute, world: World, ledger: MemoryLedger
) -> None:
    application = next(a for a in world.applications if a.status.value == "FILE_CHECK")
    body = await execute(
        """mutation($n: String!) { updateApplicationStatus(number: $n, status: DATA_ENTRY, note: "lengkap",
           idempotencyKey: "k-1") { number status sourceStatus } }""",
        {"n": application.number}, principal=LICENSING, purpose="permit-verification", case=application.number,
    )
    assert body["data"]["updateApplicationStatus"] == {"number": application.number, "status": "DATA_ENTRY",
                                                       "sourceStatus": "ENTRY_DATA"}
    writes = [d for d in ledger.drafts if d.action == "write"]
    assert [(w.record_key, w.detail, w.purpose) for w in writes] == [
        (application.number, "status=DATA_ENTRY", "permit-verification")
    ]


async def test_a_status_change_without_purpose_is_refused(execute: Execute, world: World) -> None:
    body = await execute(
        'mutation($n: String!) { updateApplicationStatus(number: $n, status: DATA_ENTRY) { number } }',
        {"n": world.applications[1].number}, principal=LICENSING, purpose=None,
    )
    assert body["errors"][0]["extensions"]["code"] == "PURPOSE_REQUIRED"


async def test_a_complaint_officer_moves_a_complaint_and_a_forbidden_transition_is_refused(
    execute: Execute, world: World, ledger: MemoryLedger
) -> None:
    officer = Principal("pengaduan", frozenset({"complaint_officer"}))
    complaint = world.complaints[0]
    update = 'mutation($n: String!, $s: ComplaintStatus!) { updateComplaintStatus(number: $n, status: $s) { status } }'
    body = await execute(update, {"n": complaint.number, "s": "VERIFIED"},
                         principal=officer, purpose="complaint-follow-up", case=complaint.number)
    assert body["data"] == {"updateComplaintStatus": {"status": "VERIFIED"}}
    assert [(d.action, d.detail) for d in ledger.drafts] == [("write", "status=VERIFIED")]
    refused = await execute(update, {"n": complaint.number, "s": "RECEIVED"},
                            principal=officer, purpose="complaint-follow-up", case=complaint.number)
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert refused["errors"][0]["extensions"]["source"] == "complaints"


# -- when the entries are written ----------------------------------------------------


async def test_a_single_root_field_starts_its_entries_while_its_links_still_load(
    execute: Execute, world: World, ledger: MemoryLedger, sources: Sources, monkeypatch: pytest.MonkeyPatch
) -> None:
    nik = next(a.applicant_nik for a in world.applications if a.applicant_nik)
    load_applications = sources.licensing.applications_by_applicant

    async def only_once_the_ledger_is_written(niks: Sequence[str]) -> dict:  # type: ignore[type-arg]
        await asyncio.wait_for(ledger.written.wait(), timeout=5)
        return await load_applications(niks)

    monkeypatch.setattr(sources.licensing, "applications_by_applicant", only_once_the_ledger_is_written)
    body = await execute("query($nik: String!) { citizen(nik: $nik) { nik fullName applications { number } } }",
                         {"nik": nik})

    assert body["data"]["citizen"]["applications"], body
    assert [(d.record_type, d.record_key) for d in ledger.drafts] == [("Citizen", nik)]


async def test_a_failed_early_batch_withholds_the_whole_answer(
    execute: Execute, world: World, ledger: MemoryLedger
) -> None:
    ledger.fail = True
    body = await execute("query { citizens(first: 5) { edges { node { nik fullName } } } }")
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "LEDGER_UNAVAILABLE"


@pytest.mark.parametrize("query", [
    pytest.param("query($nik: String!) { citizen(nik: $nik) { nik family { members { nik fullName } } } }",
                 id="two-personal-types"),
    pytest.param("query($nik: String!) { a: citizen(nik: $nik) { nik } b: citizens(first: 50) { edges { node { nik } } } }",
                 id="two-root-fields"),
])
async def test_a_record_reached_twice_still_gets_one_entry(
    query: str, execute: Execute, world: World, ledger: MemoryLedger
) -> None:
    body = await execute(query, {"nik": world.citizens[0].nik})
    assert "errors" not in body, body
    keys = [(d.record_type, d.record_key) for d in ledger.drafts]
    assert ("Citizen", world.citizens[0].nik) in keys
    assert len(keys) == len(set(keys))
    assert ledger.batches == 1


async def test_records_noted_after_a_batch_started_get_their_own_and_nothing_is_written_twice(
    env: Environment, ledger: MemoryLedger
) -> None:
    ctx = Context.create(env, POPULATION_OFFICER, request_id="r", purpose="population-service")
    ctx.ledger_writes.early = True
    ctx.ledger_writes.describe("{ citizens { edges { node { nik fullName } } } }", None)
    ctx.note("Citizen", "1471080101000001", {"nik"})
    ctx.start_ledger_write()
    await ctx.finish_ledger()  # nothing noted since the first batch: no second one
    assert ledger.batches == 1 and len(ledger.drafts) == 1

    ctx.note("Citizen", "1471080101000002", {"nik"})
    ctx.note("Citizen", "1471080101000001", {"nik", "fullName"})  # more fields: a second entry
    await ctx.finish_ledger()

    assert ledger.batches == 2
    assert [(d.record_key, d.fields) for d in ledger.drafts] == [
        ("1471080101000001", ("nik",)),
        ("1471080101000001", ("fullName", "nik")),
        ("1471080101000002", ("nik",)),
    ]
