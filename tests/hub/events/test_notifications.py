"""Notifications to citizens: signed webhooks (Standard Webhooks) from an outbox in the
hub store, retried across a hub restart; a citizen may turn them off; operators see
the outbox's state."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.testclient import TestClient

from auth.ledger import query_entries
from hub.app import create_app
from hub.cli import main as hub_main
from hub.demo import demo_webhook_secret
from hub.notifications.outbox import outbox_counts, recent_messages
from hub.notifications.sender import GATEWAY_SUBJECT, signed_headers
from hub.store import create_store_engine
from tests.hub.events.support import residents, wait_until


def _gateway(stack):  # type: ignore[no-untyped-def]
    return httpx.Client(base_url=stack.url_of("notifications"), headers={"X-API-Key": stack.api_key})


def _received(stack, number: str) -> list[dict]:  # type: ignore[type-arg]
    with _gateway(stack) as gw:
        return [m for m in gw.get("/messages").json()["data"] if m["payload"]["data"]["case"]["number"] == number]


def _store(settings, fn, **kw):  # type: ignore[no-untyped-def]
    async def run():  # type: ignore[no-untyped-def]
        engine = create_store_engine(settings.resolved_store_url)
        try:
            return await fn(engine, **kw)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_signatures_verify_and_any_change_breaks_them(stack):
    secret = demo_webhook_secret(stack.data_dir)
    body = b'{"type":"case.created","data":{}}'
    headers = signed_headers(Webhook(secret), "ntf_1", body)
    assert Webhook(secret).verify(body, headers) == {"type": "case.created", "data": {}}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"created", b"changed"), headers)
    with pytest.raises(WebhookVerificationError):  # another message id
        Webhook(secret).verify(body, {**headers, "webhook-id": "ntf_2"})
    old = signed_headers(Webhook(secret), "ntf_1", body, datetime.now(timezone.utc) - timedelta(minutes=10))
    with pytest.raises(WebhookVerificationError):  # a replay of an old message
        Webhook(secret).verify(body, old)
    with pytest.raises(WebhookVerificationError):  # another secret
        Webhook("whsec_" + "A" * 43 + "=").verify(body, headers)
    with _gateway(stack) as gw:  # the sample gateway refuses a forged one and records nothing
        forged = {**headers, "webhook-signature": "v1,AAAA"}
        assert gw.post("/webhook", content=body, headers=forged).status_code == 401


@pytest.mark.timeout(300)
def test_the_outbox_survives_a_hub_restart_and_delivers_once(settings, sources, stack):
    (nik, kel) = residents(stack)[1]
    with _gateway(stack) as gw:
        gw.post("/_admin/faults", json={"down": True}).raise_for_status()
    try:
        with TestClient(create_app(settings)) as client:
            sender = client.app.state.notifications
            wait_until(lambda: client.app.state.events.readers.positioned)
            number = sources.submit_complaint(nik=nik, kelurahan=kel)
            wait_until(lambda: sender.failed_attempts >= 1, 90)  # the gateway is down: retried later
        queued = _store(settings, recent_messages)
        mine = [m for m in queued if m["case_number"] == number]
        assert len(mine) == 1 and mine[0]["state"] == "pending" and mine[0]["attempts"] >= 1
        assert "503" in (mine[0]["last_error"] or "")
    finally:
        with _gateway(stack) as gw:
            gw.post("/_admin/faults", json={"down": False}).raise_for_status()
    fast = settings.model_copy(update={"notifications": settings.notifications.model_copy(
        update={"backoff_seconds": 0.2, "poll_seconds": 0.1})})
    # the message's retry time was set by the first hub's backoff (2 s): wait it out on restart
    with TestClient(create_app(fast)):
        wait_until(lambda: len(_received(stack, number)) == 1, timeout=20)
    got = _received(stack, number)
    assert len(got) == 1  # signed (the gateway verified it) and delivered once
    payload = got[0]["payload"]
    assert payload["type"] == "case.created" and payload["data"]["recipient"]["nik"] == nik
    assert got[0]["id"] == f"ntf_{mine[0]['id']}"  # the same webhook-id on every attempt
    assert _store(settings, outbox_counts)["delivered"] >= 1
    # the NIK left the hub: the ledger says to whom, for the citizen's access log
    entries = _store(settings, query_entries, record_key=nik, subject=GATEWAY_SUBJECT)
    assert entries and entries[0].detail == f"notification about {number}"


def test_a_citizen_can_turn_notifications_off(client, settings, sources, token, stack):
    (nik, kel) = residents(stack)[2]
    citizen = token("citizen", nik=nik)
    answer = client.post("/graphql", json={"query": "mutation { setNotifications(enabled: false) }"},
                         headers=citizen).json()
    assert answer["data"] == {"setNotifications": False}
    answer = client.post("/graphql", json={"query": "{ notificationsEnabled }"}, headers=citizen).json()
    assert answer["data"] == {"notificationsEnabled": False}
    hub = client.app.state.events.hub
    start = hub.last_id
    number = sources.submit_complaint(nik=nik, kelurahan=kel)
    wait_until(lambda: hub.last_id > start)
    assert not [m for m in _store(settings, recent_messages, limit=200) if m["case_number"] == number]
    # and on again: the next change is queued
    client.post("/graphql", json={"query": "mutation { setNotifications(enabled: true) }"}, headers=citizen)
    sources.move_complaint(number, "TERVERIFIKASI")
    wait_until(lambda: any(m["case_number"] == number for m in _store(settings, recent_messages, limit=200)))


def test_only_a_citizen_has_the_setting(client, token):
    officer = token("complaint_officer")
    answer = client.post("/graphql", json={"query": "mutation { setNotifications(enabled: false) }"},
                         headers=officer).json()
    assert answer["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_operators_see_the_outbox(client, settings, capsys):
    metrics = client.get("/metrics").text
    assert "simpul_notifications" in metrics and "simpul_subscription_sockets" in metrics
    assert hub_main(["notifications", "--json", "--config", str(settings.data_dir / "hub.toml"),
                     "--data-dir", str(settings.data_dir)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert set(shown["counts"]) == {"pending", "delivered", "failed"}
