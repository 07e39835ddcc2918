"""Every event is shaped by the subscriber's policy, exactly as a query shapes the same
record: row rules (events about records a role may not read never arrive), masks,
hidden fields, the case of a purpose; personal data needs a purpose, as in a query.

Events arrive in id order, so "never arrives" is checked by making the forbidden
change first and a change the subscriber may see after it: the latter must be the
first event it gets."""

from __future__ import annotations

import time

import pytest

from tests.hub.events.support import bearer, collect_until, residents, socket, wait_until

CASES = """subscription($after: String) { caseUpdates(after: $after) {
  id kind source number status complaint { number status reporterNik } } }"""


@pytest.fixture(scope="module")
def people(stack):  # type: ignore[no-untyped-def]
    found = residents(stack)
    assert len(found) >= 2
    return found[0], found[1]  # (nik, kelurahan) in two different kelurahan


def _settle() -> None:
    time.sleep(0.3)  # the subscription is registered before the change is made


def test_anonymous_tracking_shows_no_personal_data_and_a_confidential_complaint_only_its_progress(
        client, sources, people):
    (nik, kel), _ = people
    secret = sources.submit_complaint(nik=nik, kelurahan=kel, visibility="RAHASIA")
    with socket(client) as s:
        s.subscribe("bad", "subscription($n: String!) { complaintTracking(number: $n) { complaint { reporterNik } } }",
                    {"n": secret})
        assert s.receive()["type"] == "error"  # not in the public's schema at all
        s.subscribe("t", "subscription($n: String!) { complaintTracking(number: $n) { number status "
                    "complaint { number status category kelurahan { code } } } }", {"n": secret})
        _settle()
        sources.move_complaint(secret, "TERVERIFIKASI")
        event = s.next_data("t")["data"]["complaintTracking"]
    assert event["number"] == secret and event["status"] == event["complaint"]["status"]
    assert event["complaint"]["category"] is None and event["complaint"]["kelurahan"] is None  # progress only


def test_citizen_gets_own_cases_only_with_own_data(client, sources, token, people):
    (nik, kel), (other_nik, other_kel) = people
    citizen = {**bearer(token("citizen", nik=nik)), "purpose": "self-service"}
    with socket(client, citizen) as s:
        s.subscribe("m", "subscription { myCases { number source complaint { number reporterNik } } }")
        _settle()
        sources.submit_complaint(nik=other_nik, kelurahan=other_kel)  # someone else's: never arrives
        mine = sources.submit_complaint(nik=nik, kelurahan=kel)
        event = s.next_data("m")["data"]["myCases"]
    assert event["number"] == mine and event["complaint"]["reporterNik"] == nik


def test_kelurahan_officer_gets_its_kelurahan_and_no_protected_reporter(client, sources, token, people):
    (nik, kel), (other_nik, other_kel) = people
    officer = {**bearer(token("kelurahan_officer", kelurahan=kel)), "purpose": "population-service"}
    with socket(client, officer) as s:
        s.subscribe("k", CASES)
        _settle()
        sources.submit_complaint(nik=other_nik, kelurahan=other_kel)  # another kelurahan: never arrives
        secret = sources.submit_complaint(nik=nik, kelurahan=kel, visibility="RAHASIA")
        public = sources.submit_complaint(nik=nik, kelurahan=kel)
        events = collect_until(s, "k", "caseUpdates", lambda e: e["number"] == public)
    assert [e["number"] for e in events] == [secret, public]
    assert events[0]["complaint"]["reporterNik"] is None  # confidential: the reporter is hidden
    assert events[1]["complaint"]["reporterNik"] == nik


def test_complaint_officer_sees_no_application_and_needs_its_case_for_personal_data(client, sources, token, people):
    (nik, kel), _ = people
    app = sources.cyclable_application()
    officer = bearer(token("complaint_officer"))
    with socket(client, officer) as s:
        s.subscribe("c", "subscription { caseUpdates { number source complaint { number status } } }")
        _settle()
        sources.move_application(app["no_permohonan"])  # an application: never arrives
        marker = sources.submit_complaint(nik=nik, kelurahan=kel)
        event = s.next_data("c")["data"]["caseUpdates"]
    assert event["number"] == marker and event["source"] == "COMPLAINTS"
    # under complaint-follow-up, personal data of the case only: other complaints never arrive
    case = sources.submit_complaint(nik=nik, kelurahan=kel)
    followed = {**officer, "purpose": "complaint-follow-up", "case": case}
    with socket(client, followed) as s:
        s.subscribe("f", CASES)
        _settle()
        sources.submit_complaint(nik=nik, kelurahan=kel)
        sources.move_complaint(case, "TERVERIFIKASI")
        event = s.next_data("f")["data"]["caseUpdates"]
    assert event["number"] == case and event["complaint"]["reporterNik"] == nik


def test_licensing_officer_sees_applicant_niks_masked_and_no_complaints(client, sources, token, people):
    (nik, kel), _ = people
    app = sources.cyclable_application(skip=1)
    officer = {**bearer(token("licensing_officer")), "purpose": "permit-verification", "case": app["no_permohonan"]}
    with socket(client, officer) as s:
        s.subscribe("l", "subscription { caseUpdates { number source application { number applicantNik } } }")
        _settle()
        sources.submit_complaint(nik=nik, kelurahan=kel)  # a complaint: never arrives
        sources.move_application(app["no_permohonan"])
        event = s.next_data("l")["data"]["caseUpdates"]
    masked = event["application"]["applicantNik"]
    assert event["number"] == app["no_permohonan"]
    assert masked != app["nik_pemohon"] and masked[:6] == app["nik_pemohon"][:6] and "*" in masked


def test_population_officer_sees_applications_in_full_and_no_complaints(client, sources, token, people):
    (nik, kel), _ = people
    app = sources.cyclable_application(skip=2)
    officer = {**bearer(token("population_officer")), "purpose": "population-service"}
    with socket(client, officer) as s:
        s.subscribe("p", "subscription { caseUpdates { number application { applicantNik } } }")
        _settle()
        sources.submit_complaint(nik=nik, kelurahan=kel)
        sources.move_application(app["no_permohonan"])
        event = s.next_data("p")["data"]["caseUpdates"]
    assert event["number"] == app["no_permohonan"] and event["application"]["applicantNik"] == app["nik_pemohon"]


def test_analyst_sees_no_personal_field_at_all(client, sources, token, people):
    (nik, kel), _ = people
    analyst = bearer(token("analyst"))
    with socket(client, analyst) as s:
        s.subscribe("x", "subscription { caseUpdates { application { applicantNik } } }")
        assert s.receive()["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        s.subscribe("y", "subscription { caseUpdates { complaint { reporterNik } } }")
        assert s.receive()["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        s.subscribe("a", "subscription { caseUpdates { number complaint { number category status } } }")
        _settle()
        marker = sources.submit_complaint(nik=nik, kelurahan=kel)
        event = s.next_data("a")["data"]["caseUpdates"]
    assert event["number"] == marker and event["complaint"]["category"] == "Infrastruktur"


@pytest.mark.parametrize("role", ["auditor", "operator"])
def test_roles_without_case_data_have_no_subscriptions(client, token, role):
    with socket(client, bearer(token(role))) as s:
        s.subscribe("z", "subscription { caseUpdates { id } }")
        assert s.receive()["type"] == "error"


def test_dashboard_metrics_follow_the_report_rules_and_come_again_on_change(client, sources, token, people):
    (nik, kel), _ = people
    analyst = bearer(token("analyst"))
    query = "{ serviceMetrics { complaints { total } applications { total } } }"

    def metrics():  # type: ignore[no-untyped-def]
        return client.post("/graphql", json={"query": query}, headers=analyst).json()

    refresher = client.app.state.metrics_refresher
    wait_until(lambda: refresher.completed >= 1)  # the start-up refresh of the metrics view is done
    answer = metrics()
    with socket(client, analyst) as s:
        s.subscribe("d", "subscription { serviceMetricsUpdated { complaints { total } applications { total } } }")
        first = s.next_data("d")["data"]["serviceMetricsUpdated"]
        assert first == answer["data"]["serviceMetrics"]  # the same function as the query, same rules
        sources.submit_complaint(nik=nik, kelurahan=kel)
        again = s.next_data("d")["data"]["serviceMetricsUpdated"]
    assert again["complaints"]["total"] == first["complaints"]["total"] + 1  # refreshed before it is sent
