"""Live groups (hub.events.groups): WebSocket subscribers whose results are provably
identical share one run of their subscription. Grouped subscribers get byte for byte
what the same subscription sends when it runs alone; callers whose policy differs never
share; every member gets its own ledger entry, and none gets data the ledger did not
record; members leave on complete, disconnect and token expiry, and the run stops
with the last one; a subscriber resuming with `after` replays alone, then joins its
group with no event missed or repeated."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from hub.app import create_app
from hub.events.log import log_bounds, prune_events
from hub.settings import Settings
from hub.store import create_store_engine, write_transaction
from tests.hub.events.conftest import FAST_EVENTS
from tests.hub.events.live import (
    frames_until,
    groups_of,
    issue,
    notifications_sent,
    opened,
    people,
    settings,
    store,
    subscribed,
)
from tests.hub.events.support import socket, wait_until
from tests.support.ledger_entries import ledger_entries, refuse_ledger_writes

__all__ = ["issue", "people", "settings", "store"]  # the fixtures these tests use (tests.hub.events.live)

OFFICER_CASES = """subscription Cases { caseUpdates {
  id kind source number status complaint { number status category reporterNik kelurahan { code } } } }"""
ANALYST_CASES = """subscription { caseUpdates { id kind source number status
  complaint { number category status kelurahan { code } } application { number status } } }"""
MINE = "subscription { myCases { id number source complaint { number status reporterNik } } }"
TRACK = "subscription($n: String!) { complaintTracking(number: $n) { id number status complaint { status } } }"


@pytest.fixture
def solo(settings: Settings, client: TestClient) -> Iterator[TestClient]:
    """A second instance on the same store and sources whose subscribers all run alone."""
    alone = settings.model_copy(update={"events": FAST_EVENTS.model_copy(update={"group_subscribers": False})})
    with TestClient(create_app(alone)) as solo_client:
        assert solo_client.app.state.subscription_groups is None
        yield solo_client


def _cases(people, sources) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Per role: its connection (by subject), document, variables, and the changes
    (some it may not see) that end with the marker it must see last."""
    (nik, kel), (other_nik, other_kel) = people
    tracked = sources.submit_complaint(nik=nik, kelurahan=kel)

    def officer_changes() -> str:
        sources.submit_complaint(nik=other_nik, kelurahan=other_kel)  # another kelurahan
        sources.submit_complaint(nik=nik, kelurahan=kel, visibility="RAHASIA")  # reporter hidden
        return sources.submit_complaint(nik=nik, kelurahan=kel)

    def citizen_changes() -> str:
        sources.submit_complaint(nik=other_nik, kelurahan=other_kel)  # someone else's
        return sources.submit_complaint(nik=nik, kelurahan=kel)

    def tracking_changes() -> str:
        sources.move_complaint(sources.submit_complaint(nik=nik, kelurahan=kel), "TERVERIFIKASI")  # another case
        sources.move_complaint(tracked, "TERVERIFIKASI")
        return tracked

    return {
        "analyst": (lambda i, issue: issue("analyst", f"dash-{i}"), ANALYST_CASES, None, officer_changes),
        "kelurahan_officer": (lambda i, issue: issue("kelurahan_officer", f"kel-{i}", purpose="population-service",
                                                     kelurahan=kel), OFFICER_CASES, None, officer_changes),
        "citizen": (lambda i, issue: issue("citizen", f"warga-{nik}", purpose="self-service", nik=nik), MINE, None,
                    citizen_changes),
        "anonymous": (lambda i, issue: {}, TRACK, {"n": tracked}, tracking_changes),
    }


@pytest.mark.parametrize("role", ["analyst", "kelurahan_officer", "citizen", "anonymous"])
def test_grouped_subscribers_get_byte_for_byte_what_a_subscriber_alone_gets(
        client, solo, sources, people, issue, role):
    hubs = client.app.state.events.hub, solo.app.state.events.hub
    start = hubs[0].last_id
    connect, query, variables, changes = _cases(people, sources)[role]
    wait_until(lambda: hubs[0].last_id > start and hubs[1].last_id == hubs[0].last_id)  # made before: not sent
    with ExitStack() as stack:
        grouped = [opened(stack, client, connect(i, issue), query, variables) for i in range(3)]
        alone = opened(stack, solo, connect(9, issue), query, variables)
        wait_until(lambda: groups_of(client).members == 3)
        assert len(groups_of(client)) == 1  # three callers, one run
        subscribed(client)
        subscribed(solo)
        marker = changes()
        expected = frames_until(alone, marker)
        for sock in grouped:
            assert frames_until(sock, marker) == expected
    assert all('"type":"next"' in frame for frame in expected)
    if role == "kelurahan_officer":
        assert len(expected) == 2 and '"reporterNik":null' in expected[0]  # not the other kelurahan's


def test_callers_whose_policy_differs_never_share(client, sources, people, issue):
    (nik, kel), (other_nik, other_kel) = people
    hub = client.app.state.events.hub
    start = hub.last_id
    case_a = sources.submit_complaint(nik=nik, kelurahan=kel)
    case_b = sources.submit_complaint(nik=nik, kelurahan=kel)
    wait_until(lambda: hub.last_id >= start + 2)  # made before: not sent
    with ExitStack() as stack:
        officer = lambda sub, k: issue("kelurahan_officer", sub, purpose="population-service", kelurahan=k)  # noqa: E731
        here = [opened(stack, client, officer(f"k{i}", kel), OFFICER_CASES) for i in range(2)]  # 1 group
        there = opened(stack, client, officer("k-other", other_kel), OFFICER_CASES)
        followers = [opened(stack, client, issue("complaint_officer", "c", purpose="complaint-follow-up", case=c),
                           OFFICER_CASES) for c in (case_a, case_b)]
        citizens = [opened(stack, client, issue("citizen", f"w{n}", purpose="self-service", nik=n), MINE)
                    for n in (nik, other_nik)]
        analysts = [opened(stack, client, issue(role, f"a-{role}"), "subscription { caseUpdates { id number } }")
                    for role in ("analyst", "population_officer")]  # another role: another group
        wait_until(lambda: groups_of(client).members == 9)
        assert len(groups_of(client)) == 1 + 1 + 2 + 2 + 2
        subscribed(client, 8)
        mine_here = sources.submit_complaint(nik=nik, kelurahan=kel)
        mine_there = sources.submit_complaint(nik=other_nik, kelurahan=other_kel)
        again_here = sources.submit_complaint(nik=nik, kelurahan=kel)
        sources.move_complaint(case_b, "TERVERIFIKASI")
        for sock in here:
            numbers = [sock.next_data("s")["data"]["caseUpdates"]["number"] for _ in range(2)]
            assert numbers == [mine_here, again_here]  # never the other kelurahan's
        assert there.next_data("s")["data"]["caseUpdates"]["number"] == mine_there
        assert followers[1].next_data("s")["data"]["caseUpdates"]["number"] == case_b  # only its own case
        assert citizens[0].next_data("s")["data"]["myCases"]["number"] == mine_here
        assert citizens[1].next_data("s")["data"]["myCases"]["number"] == mine_there
        assert analysts[0].next_data("s")["data"]["caseUpdates"]["number"] == mine_here


@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_each_member_gets_its_own_ledger_entry_and_none_gets_data_the_ledger_refused(
        client, settings, sources, people, issue):
    (nik, kel), _ = people
    subjects = [f"ledger-{i}" for i in range(3)]
    with ExitStack() as stack:
        members = [opened(stack, client, issue("kelurahan_officer", sub, purpose="population-service", kelurahan=kel),
                         OFFICER_CASES) for sub in subjects]
        wait_until(lambda: groups_of(client).members == 3)
        subscribed(client)
        number = sources.submit_complaint(nik=nik, kelurahan=kel)
        events = [m.next_data("s")["data"]["caseUpdates"] for m in members]
        assert all(e["number"] == number and e["complaint"]["reporterNik"] == nik for e in events)
        entries = [e for e in ledger_entries(settings, record_key=nik, record_type="Complaint")
                   if e.subject in subjects]  # written before the events were sent: read after them
        assert sorted(e.subject for e in entries) == subjects  # k members, k entries
        assert len({e.request_id for e in entries}) == 3
        assert all(e.request_id.endswith(f".s:{events[0]['id']}") and e.purpose == "population-service"
                   and e.operation_name == "Cases" for e in entries)

        refuse_ledger_writes(settings, True)
        try:
            refused = sources.submit_complaint(nik=nik, kelurahan=kel)
            for m in members:
                frame = m.ws.receive_text()
                assert "LEDGER_UNAVAILABLE" in frame and nik not in frame and '"data":{' not in frame
        finally:
            refuse_ledger_writes(settings, False)
    assert refused
    after = [e for e in ledger_entries(settings, record_key=nik) if e.subject in subjects]
    assert len(after) == 3  # the refused event left no entry, and no data


def test_members_leave_on_complete_disconnect_and_expiry_and_the_run_stops_with_the_last(
        client, sources, people, issue):
    (nik, kel), _ = people
    hub = client.app.state.events.hub
    groups = groups_of(client)
    with ExitStack() as stack:
        first = opened(stack, client, issue("analyst", "one"), ANALYST_CASES)
        second_stack = stack.enter_context(ExitStack())
        second = opened(second_stack, client, issue("analyst", "two"), ANALYST_CASES)
        expiring = opened(stack, client, issue("analyst", "three", ttl=3), ANALYST_CASES)
        wait_until(lambda: groups.members == 3)
        assert len(groups) == 1 and hub.subscriber_count == 1  # one EventHub subscriber for three
        first.ws.send_json({"id": "s", "type": "complete"})
        wait_until(lambda: groups.members == 2)
        number = sources.submit_complaint(nik=nik, kelurahan=kel)
        assert second.next_data("s")["data"]["caseUpdates"]["number"] == number
        assert expiring.next_data("s")["data"]["caseUpdates"]["number"] == number
        second_stack.close()  # disconnect
        wait_until(lambda: groups.members == 1)
        with pytest.raises(WebSocketDisconnect) as closed:
            for _ in range(10):
                expiring.ws.receive_json()
        assert closed.value.code == 4403
        wait_until(lambda: groups.members == 0 and len(groups) == 0 and hub.subscriber_count == 0)
        first.ws.send_json({"type": "ping"})
        assert first.receive() == {"type": "pong"}  # the completed operation left, its socket did not


RESUMABLE = {
    "analyst": """subscription Cases($after: String) { caseUpdates(after: $after) { id kind source number status
  complaint { number category status kelurahan { code } } application { number status } } }""",
    "citizen": """subscription Mine($after: String) { myCases(after: $after) {
  id number source complaint { number status reporterNik } } }""",
}


async def _until(predicate: Any, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "condition not reached in time"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("others", [pytest.param(0, id="no-group-yet"), pytest.param(2, id="members-already")])
@pytest.mark.parametrize("role", ["analyst", "citizen"])
def test_a_resuming_subscriber_replays_alone_then_joins_its_group_without_a_gap_or_a_repeat(
        client, solo, sources, people, issue, settings, monkeypatch, role, others):
    (nik, kel), _ = people
    hub, groups = client.app.state.events.hub, groups_of(client)
    query = RESUMABLE[role]
    connect = (lambda i: issue("analyst", f"dash-{i}")) if role == "analyst" else \
        (lambda i: issue("citizen", f"warga-{i}", purpose="self-service", nik=nik))
    file = lambda: sources.submit_complaint(nik=nik, kelurahan=kel)  # noqa: E731
    wait_until(lambda: solo.app.state.events.hub.last_id == hub.last_id)
    resume_at = hub.last_id
    missed = [file() for _ in range(3)]  # while it was away
    wait_until(lambda: hub.last_id >= resume_at + 3 and solo.app.state.events.hub.last_id == hub.last_id)

    real, passes, during = hub.replay, [], []

    async def replay(after: int) -> Any:
        """The hub's replay; after its first pass, two more events, which the group's run reads first."""
        passes.append(after)
        async for delivery in real(after):
            yield delivery
        if len(passes) == 1:
            target = hub.last_id + 2
            during.extend(await asyncio.to_thread(lambda: [file() for _ in range(2)]))
            await _until(lambda: any(g.position >= target for g in groups._groups.values()))

    monkeypatch.setattr(hub, "replay", replay)
    with ExitStack() as stack:
        members = [opened(stack, client, connect(i), query) for i in range(others)]
        wait_until(lambda: groups.members == others)
        subscribed(client, min(others, 1))
        resumed = opened(stack, client, connect(9), query, {"after": str(resume_at)}, op_id="r")
        wait_until(lambda: len(during) == 2 and len(passes) >= 2)  # it replayed again: the run was past it
        alone = opened(stack, solo, connect(8), query, {"after": str(resume_at)}, op_id="r")
        live = [file() for _ in range(2)]
        expected = frames_until(alone, live[-1])
        assert frames_until(resumed, live[-1]) == expected  # byte for byte what it gets alone
        assert groups.members == others + 1 and len(groups) == 1  # then one of its group
        assert all(member.taken_over for group in groups._groups.values() for member in group.members)
        for member in members:  # the others go on as before
            assert live[-1] in frames_until(member, live[-1])[-1]
    events = [orjson.loads(frame)["payload"]["data"] for frame in expected]
    shown = [next(iter(e.values())) for e in events]
    assert [e["number"] for e in shown] == [*missed, *during, *live]  # each once, in order
    ids = [int(e["id"]) for e in shown]
    assert ids == sorted(set(ids)) and ids[0] > resume_at
    if role == "citizen":  # one entry per event for it: the replayed, the replayed again, the group's
        for subject in ("warga-9", "warga-8"):
            entries = [e for e in ledger_entries(settings, record_key=nik, record_type="Complaint")
                       if e.subject == subject]
            assert sorted(int(e.request_id.rsplit(":", 1)[1]) for e in entries) == ids
    notifications_sent(settings)


def test_a_resume_point_no_longer_retained_or_not_an_id_is_refused_and_joins_no_group(
        client, settings, sources, people, issue):
    (nik, kel), _ = people
    hub = client.app.state.events.hub
    start = hub.last_id
    for _ in range(3):
        sources.submit_complaint(nik=nik, kelurahan=kel)
    wait_until(lambda: hub.last_id >= start + 3)

    async def prune() -> int:
        engine = create_store_engine(settings.resolved_store_url)
        async with write_transaction(engine) as conn:
            await prune_events(conn, keep=1)
        async with engine.connect() as conn:
            oldest, _ = await log_bounds(conn)
        await engine.dispose()
        return oldest

    oldest = asyncio.run(prune())
    for after, code in (("0", "BAD_USER_INPUT"), ("-1", "BAD_USER_INPUT"), ("x1", "BAD_USER_INPUT")):
        with socket(client, issue("analyst", "resumer")) as s:
            s.subscribe("r", RESUMABLE["analyst"], {"after": after})
            message = s.receive()
        assert message["type"] == "error", message
        assert message["payload"][0]["extensions"]["code"] == code
        if after == "0":
            assert message["payload"][0]["extensions"]["oldestRetained"] == str(oldest)
    wait_until(lambda: groups_of(client).members == 0 and len(groups_of(client)) == 0)
    notifications_sent(settings)


def test_a_new_groups_run_reads_every_event_after_the_newest_one_delivered_when_the_group_was_made(
        client, settings, sources, people, issue, monkeypatch):
    (nik, kel), _ = people
    hub, groups = client.app.state.events.hub, groups_of(client)
    start = hub.last_id
    filed = [sources.submit_complaint(nik=nik, kelurahan=kel) for _ in range(2)]
    wait_until(lambda: hub.last_id >= start + 2)
    monkeypatch.setattr(groups, "_position", lambda: start)  # as if made before these two were delivered
    with socket(client, issue("analyst", "late-leader")) as s:
        s.subscribe("s", RESUMABLE["analyst"])  # no `after`: the run's start is the group's, not its subscribe's
        got = [s.next_data("s")["data"]["caseUpdates"]["number"] for _ in range(2)]
    assert got == filed
    notifications_sent(settings)
