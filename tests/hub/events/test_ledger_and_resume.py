"""Ledger entries for personal data delivered by events; resuming after a dropped
connection; the readers resuming after a hub restart."""

from __future__ import annotations

import asyncio
import time

from starlette.testclient import TestClient

from hub.app import create_app
from hub.events.log import log_bounds, prune_events
from hub.notifications.sender import GATEWAY_SUBJECT
from hub.store import create_store_engine, write_transaction
from tests.support.ledger_entries import ledger_entries
from tests.hub.events.support import bearer, collect_until, residents, socket, wait_until

ANALYST_CASES = """subscription($after: String) { caseUpdates(after: $after) { id number status } }"""


_entries = ledger_entries


def _read_by_subscribers(settings, nik: str):  # type: ignore[no-untyped-def]
    """The entries about `nik` but the notification gateway's (a citizen's complaint notifies them)."""
    return [e for e in _entries(settings, record_key=nik) if e.subject != GATEWAY_SUBJECT]


def test_each_event_with_personal_data_writes_its_ledger_entry(client, settings, sources, token, stack):
    (nik, kel), _ = residents(stack)[0], None
    citizen = {**bearer(token("citizen", nik=nik)), "purpose": "self-service"}
    with socket(client, citizen) as s:
        s.subscribe("m", "subscription Mine { myCases { id number complaint { reporterNik status } } }")
        time.sleep(0.3)
        first = sources.submit_complaint(nik=nik, kelurahan=kel)
        events = [s.next_data("m")["data"]["myCases"]]
        sources.move_complaint(first, "TERVERIFIKASI")
        events.append(s.next_data("m")["data"]["myCases"])
    assert [e["number"] for e in events] == [first, first]
    entries = [e for e in _entries(settings, record_key=nik, record_type="Complaint") if e.subject == "t-citizen"]
    assert len(entries) == 2  # one per event: the same record sent twice is read twice
    for entry in entries:
        assert entry.purpose == "self-service" and entry.operation_name == "Mine"
        assert "reporterNik" in entry.fields
    assert len({entry.request_id for entry in entries}) == 2


def test_events_without_personal_data_write_no_entry(client, settings, sources, stack):
    (nik, kel) = residents(stack)[0]
    number = sources.submit_complaint(nik=nik, kelurahan=kel)
    before = len(_read_by_subscribers(settings, nik))
    with socket(client) as s:
        s.subscribe("t", "subscription($n: String!) { complaintTracking(number: $n) { number status } }",
                    {"n": number})
        time.sleep(0.3)
        sources.move_complaint(number, "TERVERIFIKASI")
        assert s.next_data("t")["data"]["complaintTracking"]["number"] == number
    assert len(_read_by_subscribers(settings, nik)) == before


def test_a_dropped_subscriber_resumes_with_after_and_sees_each_event_once(client, sources, token, stack):
    (nik, kel) = residents(stack)[0]
    analyst = bearer(token("analyst"))
    with socket(client, analyst) as s:
        s.subscribe("a", ANALYST_CASES)
        time.sleep(0.3)
        seen = sources.submit_complaint(nik=nik, kelurahan=kel)
        last = s.next_data("a")["data"]["caseUpdates"]
        assert last["number"] == seen
    # the connection is gone; three changes happen meanwhile
    missed = [sources.submit_complaint(nik=nik, kelurahan=kel) for _ in range(3)]
    hub = client.app.state.events.hub
    wait_until(lambda: hub.last_id >= int(last["id"]) + 3)
    with socket(client, analyst) as s:
        s.subscribe("b", ANALYST_CASES, {"after": last["id"]})
        replayed = [s.next_data("b")["data"]["caseUpdates"] for _ in range(3)]
        live = sources.submit_complaint(nik=nik, kelurahan=kel)
        then = s.next_data("b")["data"]["caseUpdates"]
    assert [e["number"] for e in replayed] == missed
    ids = [int(e["id"]) for e in [*replayed, then]]
    assert ids == sorted(set(ids)) and ids[0] == int(last["id"]) + 1  # in order, no gap, no repeat
    assert then["number"] == live


def test_after_beyond_retention_is_refused(client, settings, sources, token, stack):
    (nik, kel) = residents(stack)[0]
    sources.submit_complaint(nik=nik, kelurahan=kel)
    sources.submit_complaint(nik=nik, kelurahan=kel)
    hub = client.app.state.events.hub
    wait_until(lambda: hub.last_id >= 2)

    async def prune() -> tuple[int, int]:
        engine = create_store_engine(settings.resolved_store_url)
        async with write_transaction(engine) as conn:
            await prune_events(conn, keep=1)
        async with engine.connect() as conn:
            bounds = await log_bounds(conn)
        await engine.dispose()
        return bounds

    oldest, _ = asyncio.run(prune())
    with socket(client, bearer(token("analyst"))) as s:
        s.subscribe("old", ANALYST_CASES, {"after": "0"})
        message = s.receive()
    assert message["type"] in ("next", "error")
    error = message["payload"]["errors"][0] if message["type"] == "next" else message["payload"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["oldestRetained"] == str(oldest)
    with socket(client, bearer(token("analyst"))) as s:
        s.subscribe("bad", ANALYST_CASES, {"after": "-1"})
        refused = s.receive()
    assert refused["type"] == "error" and refused["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_the_readers_resume_from_their_stored_position_after_a_restart(settings, sources, token, stack):
    (nik, kel) = residents(stack)[0]
    analyst = bearer(token("analyst"))
    with TestClient(create_app(settings)) as client:
        before = sources.submit_complaint(nik=nik, kelurahan=kel)
        with socket(client, analyst) as s:
            s.subscribe("a", ANALYST_CASES)
            time.sleep(0.3)
            seen = sources.submit_complaint(nik=nik, kelurahan=kel)
            events = collect_until(s, "a", "caseUpdates", lambda e: e["number"] == seen)
        last = events[-1]["id"]
    assert before  # made before the subscription: in the log, not delivered to it
    # the hub is down: these changes are read when it is back, from where it stopped
    while_down = [sources.submit_complaint(nik=nik, kelurahan=kel) for _ in range(2)]
    with TestClient(create_app(settings)) as client:
        with socket(client, analyst) as s:
            s.subscribe("b", ANALYST_CASES, {"after": last})
            got = [s.next_data("b")["data"]["caseUpdates"] for _ in range(2)]
    assert [e["number"] for e in got] == while_down
    assert [int(e["id"]) for e in got] == [int(last) + 1, int(last) + 2]  # nothing read twice into the log
