"""The other ways in: HTTP multipart subscriptions (strawberry's transport) for networks
that block WebSockets, a real WebSocket client against uvicorn (the README's Python
example), and the connection_init timeout."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
import websockets
from starlette.testclient import TestClient

from hub.app import create_app
from hub.settings import EventSettings
from tests.hub.events.support import PROTOCOL, residents, wait_until
from tests.support.browser import serving

MULTIPART = 'multipart/mixed;subscriptionSpec="1.0", application/json'


def test_http_multipart_subscription_delivers_events(settings, sources, token, stack):
    (nik, kel) = residents(stack)[0]
    app = create_app(settings)
    parts: list[dict] = []  # type: ignore[type-arg]
    with serving(app) as base:
        host = base.removeprefix("http://")
        wait_until(lambda: app.state.events.readers.positioned)

        def read() -> None:
            body = {"query": "subscription { caseUpdates { id number } }"}
            with httpx.stream("POST", f"http://{host}/graphql", json=body, timeout=30,
                              headers={"Accept": MULTIPART, **token("analyst")}) as answer:
                assert answer.headers["content-type"].startswith("multipart/mixed")
                for line in answer.iter_lines():
                    if line.startswith("{") and "payload" in line:
                        parts.append(json.loads(line)["payload"])
                        return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        wait_until(lambda: app.state.events.hub.subscriber_count >= 1)
        number = sources.submit_complaint(nik=nik, kelurahan=kel)
        reader.join(20)
    assert parts and parts[0]["data"]["caseUpdates"]["number"] == number


def test_http_multipart_keeps_the_policy(settings, token):
    app = create_app(settings)
    with serving(app) as base:
        host = base.removeprefix("http://")
        body = {"query": "subscription { caseUpdates { complaint { reporterNik } } }"}
        answer = httpx.post(f"http://{host}/graphql", json=body, timeout=10,
                            headers={"Accept": MULTIPART, **token("complaint_officer")})
        assert "PURPOSE_REQUIRED" in answer.text and "reporterNik\":\"" not in answer.text


def test_a_real_websocket_client_as_in_the_readme(settings, sources, stack):
    (nik, kel) = residents(stack)[0]
    app = create_app(settings)
    with serving(app) as base:
        host = base.removeprefix("http://")
        wait_until(lambda: app.state.events.readers.positioned)
        start = app.state.events.hub.last_id
        number = sources.submit_complaint(nik=nik, kelurahan=kel)
        wait_until(lambda: app.state.events.hub.last_id > start)  # its creation is an event already read

        async def follow() -> dict:  # type: ignore[type-arg]
            async with websockets.connect(f"ws://{host}/graphql", subprotocols=[PROTOCOL]) as ws:
                await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
                assert json.loads(await ws.recv())["type"] == "connection_ack"
                await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                    "query": "subscription($n: String!) { complaintTracking(number: $n) { id status at } }",
                    "variables": {"n": number}}}))
                await asyncio.sleep(0.3)
                await asyncio.to_thread(sources.move_complaint, number, "TERVERIFIKASI")
                message = await asyncio.wait_for(ws.recv(), 20)
                assert isinstance(message, str)  # text frames, as the protocol says
                return json.loads(message)

        message = asyncio.run(follow())
    assert message["type"] == "next" and message["payload"]["data"]["complaintTracking"]["status"] == "VERIFIED"


def test_a_socket_without_connection_init_closes_with_4408(settings):
    quick = settings.model_copy(update={"events": EventSettings(connection_init_timeout_seconds=0.3)})
    from starlette.websockets import WebSocketDisconnect

    with TestClient(create_app(quick)) as client, \
            client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
        time.sleep(0.6)
        try:
            ws.receive_json()
        except WebSocketDisconnect as exc:
            assert exc.code == 4408
        else:
            raise AssertionError("the socket stayed open")


def test_sigterm_closes_open_subscriptions_with_1001(stack, tmp_path):  # type: ignore[no-untyped-def]
    """`hub serve` under SIGTERM: the subscription sockets (app.state.subscription_sockets,
    a shutdown hook) close with 1001, going away, not uvicorn's 1012."""
    import signal

    from hub.demo import write_demo_config
    from tests.support.hub_process import hub_serve

    args = ("--config", str(write_demo_config(stack)), "--data-dir", str(tmp_path / "data"))
    with hub_serve(*args, log=tmp_path / "hub.log", env={"SIMPUL_SHUTDOWN_GRACE_SECONDS": "5"}) as hub:
        host = hub.url.removeprefix("http://")

        async def subscribed_then_sigterm() -> int:
            async with websockets.connect(f"ws://{host}/graphql", subprotocols=[PROTOCOL]) as ws:
                await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
                assert json.loads(await ws.recv())["type"] == "connection_ack"
                await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                    "query": "subscription { complaintTracking(number: \"LPR-0\") { id } }"}}))
                await asyncio.sleep(0.5)
                hub.process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(ws.recv(), 20)
                except websockets.ConnectionClosed as closed:
                    return closed.rcvd.code if closed.rcvd is not None else -1
                return 0

        assert asyncio.run(subscribed_then_sigterm()) == 1001
        assert hub.process.wait(timeout=60) == -signal.SIGTERM
