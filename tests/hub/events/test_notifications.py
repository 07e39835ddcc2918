"""Notifications to citizens: signed webhooks (Standard Webhooks) from an outbox in the
hub store, retried across a hub restart; a citizen may turn them off; operators see
the outbox's state."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.testclient import TestClient

from auth.ledger import query_entries
from hub.app import create_app
from hub.cli import main as hub_main
from hub.demo import demo_webhook_secret
from hub.notifications.cli import run_notifications_command
from hub.notifications.outbox import outbox_counts, outbox_table, recent_messages
from hub.notifications.sender import GATEWAY_SUBJECT, signed_headers
from hub.store import create_store_engine
from tests.hub.events.support import residents, wait_until
from tests.support.pg_database import hub_store_url


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


def _fast(settings):  # type: ignore[no-untyped-def]
    """Retries 0.2 s apart (doubling), the outbox read every 0.1 s."""
    return settings.model_copy(update={"notifications": settings.notifications.model_copy(
        update={"backoff_seconds": 0.2, "poll_seconds": 0.1})})


def _queued(settings, number: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    (message,) = [m for m in _store(settings, recent_messages, limit=200) if m["case_number"] == number]
    return message


def test_signatures_verify_and_any_change_breaks_them(stack):
    secret = demo_webhook_secret(stack.data_dir)
    body = b'{"type":"case.created","data":{}}'
    headers = signed_headers(Webhook(secret), "msg_1", body)
    assert Webhook(secret).verify(body, headers) == {"type": "case.created", "data": {}}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"created", b"changed"), headers)
    with pytest.raises(WebhookVerificationError):  # another message id
        Webhook(secret).verify(body, {**headers, "webhook-id": "msg_2"})
    old = signed_headers(Webhook(secret), "msg_1", body, datetime.now(timezone.utc) - timedelta(minutes=10))
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
    # the message's retry time was set by the first hub's backoff (2 s): wait it out on restart
    with TestClient(create_app(_fast(settings))):
        wait_until(lambda: len(_received(stack, number)) == 1, timeout=20)
    got = _received(stack, number)
    assert len(got) == 1  # signed (the gateway verified it) and delivered once
    payload = got[0]["payload"]
    assert payload["type"] == "case.created" and payload["data"]["recipient"]["nik"] == nik
    assert got[0]["id"] == mine[0]["webhook_id"]  # the same webhook-id on every attempt, before and after
    assert _store(settings, outbox_counts)["delivered"] >= 1
    # the NIK left the hub: the ledger says to whom, for the citizen's access log, under the webhook id
    entries = _store(settings, query_entries, record_key=nik, subject=GATEWAY_SUBJECT)
    assert len(entries) >= 2 and entries[0].detail == f"notification about {number}"
    assert {e.request_id for e in entries} == {mine[0]["webhook_id"]}


def test_a_retried_message_keeps_its_webhook_id_and_the_gateway_records_it_once(settings, sources, stack, capsys):
    (nik, kel) = residents(stack)[3]
    with TestClient(create_app(_fast(settings))) as client:
        sender = client.app.state.notifications
        wait_until(lambda: client.app.state.events.readers.positioned)
        with _gateway(stack) as gw:
            gw.post("/_admin/faults", json={"down": True}).raise_for_status()
            try:
                number = sources.submit_complaint(nik=nik, kelurahan=kel)
                wait_until(lambda: sender.failed_attempts >= 2, 30)
            finally:
                gw.post("/_admin/faults", json={"down": False}).raise_for_status()
        wait_until(lambda: _queued(settings, number)["state"] == "delivered", 30)
        first = _queued(settings, number)
        # as if the hub had stopped after the gateway took it but before it marked it delivered
        _store(settings, _send_again, webhook_id=first["webhook_id"])
        wait_until(lambda: _queued(settings, number)["attempts"] > first["attempts"], 30)
    again = _queued(settings, number)
    assert again["webhook_id"] == first["webhook_id"] and again["webhook_id"].startswith("msg_")
    assert again["state"] == "delivered"  # the gateway answered the repeat 200, dropping it by its id
    got = _received(stack, number)
    assert [m["id"] for m in got] == [first["webhook_id"]]
    entries = _store(settings, query_entries, record_key=nik, subject=GATEWAY_SUBJECT)
    assert len(entries) == again["attempts"] >= 4 and {e.request_id for e in entries} == {first["webhook_id"]}
    shown = argparse.Namespace(state=None, limit=20, json=False)  # `hub notifications` on this test's store
    assert asyncio.run(run_notifications_command(settings, shown)) == 0
    assert first["webhook_id"] in capsys.readouterr().out  # operators match it to the gateway's log


async def _send_again(engine, *, webhook_id: str) -> None:  # type: ignore[no-untyped-def]
    async with engine.begin() as conn:
        await conn.execute(update(outbox_table).where(outbox_table.c.webhook_id == webhook_id)
                           .values(state="pending", next_attempt=0))


@pytest.mark.timeout(300)
@pytest.mark.parametrize("second", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_two_hubs_sharing_one_gateway_both_get_their_citizens_messages_through(
    settings, sources, stack, tmp_path: Path, second: str
):
    """Two kecamatan hubs, each with a fresh store numbering its outbox from 1, send
    through one gateway, which drops repeated webhook ids: it drops neither."""
    sent = []
    for i, (kind, (nik, kel)) in enumerate(zip(("sqlite", second), residents(stack)[4:6])):
        folder = tmp_path / f"hub{i}"
        folder.mkdir()
        checkpoints = settings.ledger_checkpoints.model_copy(update={"file": folder / "checkpoints.jsonl"})
        with hub_store_url(kind, folder, "ntf_ids") as url:
            hub = _fast(settings).model_copy(update={"store_url": url, "ledger_checkpoints": checkpoints})
            with TestClient(create_app(hub)) as client:
                wait_until(lambda: client.app.state.events.readers.positioned)
                number = sources.submit_complaint(nik=nik, kelurahan=kel)
                wait_until(lambda: len(_received(stack, number)) == 1, 30)
            sent.append((number, _queued(hub, number)))
    assert [message["id"] for _, message in sent] == [1, 1]  # the outbox rows' numbers collide
    for number, message in sent:
        assert [m["id"] for m in _received(stack, number)] == [message["webhook_id"]]
    assert sent[0][1]["webhook_id"] != sent[1][1]["webhook_id"]


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
