"""A shared run (hub.events.groups) shows no member anything its own run would not have
shown it, whatever else differs between the members: the day each joined, how many
rights the group's first caller had, whether its own checks passed, what its checks
found, when its token runs out."""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack
from datetime import date, timedelta

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

import hub.app
from hub.app import create_app
from schema.extensions import personal_data
from tests.hub.events.conftest import FAST_EVENTS
from tests.hub.events.live import frames_until, groups_of, issue, opened, people, settings, store, subscribed
from tests.hub.events.support import wait_until

__all__ = ["issue", "people", "settings", "store"]  # the fixtures these tests use (tests.hub.events.live)

APPLICATIONS = """subscription { caseUpdates(filter: {sources: [LICENSING]}) {
  id number application { number status dueDate overdue workingDaysElapsed } } }"""
ANALYST = "subscription { caseUpdates { id number } }"
TRACK = "subscription($n: String!) { complaintTracking(number: $n) { id number status complaint { status } } }"
FOLLOW = """subscription($n: String!) { complaintTracking(number: $n) {
  id number complaint { number reporterNik } } }"""


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[date]:
    """The hubs' date, which the test moves (every hub created after this fixture)."""
    day = [date(2031, 3, 3)]
    build = hub.app.build_environment
    monkeypatch.setattr(hub.app, "build_environment",
                        lambda *a, **kw: dataclasses.replace(build(*a, **kw), today=lambda: day[0]))
    return day


def test_a_member_who_joins_on_a_later_day_sees_each_event_as_of_its_day(clock, settings, sources, issue):
    alone = settings.model_copy(update={"events": FAST_EVENTS.model_copy(update={"group_subscribers": False})})
    with TestClient(create_app(settings)) as client, TestClient(create_app(alone)) as solo, ExitStack() as stack:
        wait_until(lambda: client.app.state.events.readers.positioned)
        first = opened(stack, client, issue("analyst", "day-1"), APPLICATIONS)
        subscribed(client)
        number = sources.cyclable_application()["no_permohonan"]
        sources.move_application(number)
        assert number in frames_until(first, number)[-1]  # the run has shaped an event on the first day

        clock[0] += timedelta(days=14)
        wait_until(lambda: solo.app.state.events.hub.last_id == client.app.state.events.hub.last_id)
        later = opened(stack, client, issue("analyst", "day-15"), APPLICATIONS)
        own = opened(stack, solo, issue("analyst", "day-15"), APPLICATIONS)
        wait_until(lambda: groups_of(client).members == 2)
        assert len(groups_of(client)) == 1
        subscribed(solo)
        sources.move_application(number)
        expected = frames_until(own, number)[-1]
        assert '"workingDaysElapsed":null' not in expected  # the date shows
        assert frames_until(later, number)[-1] == expected
        assert frames_until(first, number)[-1] == expected


def test_an_anonymous_tracker_never_shares_the_run_of_a_caller_with_more_rights(client, sources, people, issue):
    (nik, kel), _ = people
    tracked = sources.submit_complaint(nik=nik, kelurahan=kel)
    with ExitStack() as stack:
        officer = opened(stack, client, issue("complaint_officer", "c", purpose="complaint-follow-up", case=tracked),
                        TRACK, {"n": tracked})
        wait_until(lambda: groups_of(client).members == 1)
        strangers = [opened(stack, client, {}, TRACK, {"n": tracked}) for _ in range(2)]
        wait_until(lambda: groups_of(client).members == 3)
        assert len(groups_of(client)) == 2  # the officer's, and the anonymous callers'
        subscribed(client, 2)
        sources.move_complaint(tracked, "TERVERIFIKASI")
        assert officer.next_data("s")["data"]["complaintTracking"]["number"] == tracked
        for sock in strangers:
            assert sock.next_data("s")["data"]["complaintTracking"]["number"] == tracked


def test_a_member_whose_own_checks_fail_is_never_attached(client, sources, people, issue):
    (nik, kel), _ = people
    case, other = (sources.submit_complaint(nik=nik, kelurahan=kel) for _ in range(2))
    follower = issue("complaint_officer", "c", purpose="complaint-follow-up", case=case)
    with ExitStack() as stack:
        member = opened(stack, client, follower, FOLLOW, {"n": case})
        wait_until(lambda: groups_of(client).members == 1)
        outsider = opened(stack, client, follower, FOLLOW, {"n": other})  # not its case
        refused = outsider.receive()
        assert refused["type"] == "error" and refused["payload"][0]["extensions"]["code"] == "PURPOSE_REQUIRED"
        citizenless = opened(stack, client, issue("analyst", "a"), "subscription { myCases { id } }")
        assert citizenless.receive()["type"] == "error"
        assert groups_of(client).members == 1 and len(groups_of(client)) == 1
        subscribed(client)
        sources.move_complaint(case, "TERVERIFIKASI")
        assert member.next_data("s")["data"]["complaintTracking"]["number"] == case


def test_the_leader_looks_nothing_up_again_it_runs_with_what_its_members_checks_found(
        client, sources, people, issue, monkeypatch):
    (nik, kel), _ = people
    case = sources.submit_complaint(nik=nik, kelurahan=kel)
    checks: list[str | None] = []
    enter_case = personal_data.enter_case

    async def counted(ctx, decision):  # type: ignore[no-untyped-def]
        checks.append(decision.case)
        await enter_case(ctx, decision)

    monkeypatch.setattr(personal_data, "enter_case", counted)
    follower = issue("complaint_officer", "c", purpose="complaint-follow-up", case=case)
    with ExitStack() as stack:
        members = [opened(stack, client, follower, FOLLOW, {"n": case}) for _ in range(2)]
        wait_until(lambda: groups_of(client).members == 2)
        subscribed(client)
        sources.move_complaint(case, "TERVERIFIKASI")
        for member in members:
            assert member.next_data("s")["data"]["complaintTracking"]["complaint"]["reporterNik"] == nik
    assert checks == [case, case]  # each member's own, and none of the leader's


def test_one_members_token_running_out_ends_it_alone(client, sources, people, issue):
    (nik, kel), _ = people
    with ExitStack() as stack:
        staying = opened(stack, client, issue("analyst", "stays"), ANALYST)
        expiring = opened(stack, client, issue("analyst", "expires", ttl=2), ANALYST)
        wait_until(lambda: groups_of(client).members == 2)
        with pytest.raises(WebSocketDisconnect) as closed:
            for _ in range(10):
                expiring.ws.receive_json()
        assert closed.value.code == 4403
        wait_until(lambda: groups_of(client).members == 1)
        assert len(groups_of(client)) == 1
        number = sources.submit_complaint(nik=nik, kelurahan=kel)
        assert staying.next_data("s")["data"]["caseUpdates"]["number"] == number
