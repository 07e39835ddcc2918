"""graphql-transport-ws conformance of `/graphql`: the handshake, subscribe / next /
complete, ping / pong, and every close code the hub uses."""

from __future__ import annotations

import time

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from hub.app import create_app
from hub.settings import EventSettings
from tests.hub.events.support import PROTOCOL, bearer, socket

TRACK = "subscription($n: String!) { applicationTracking(number: $n) { id kind number status } }"


def _closed_with(ws, code: int) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(WebSocketDisconnect) as caught:
        for _ in range(10):
            ws.receive_json()
    assert caught.value.code == code, (caught.value.code, caught.value.reason)
    return caught.value.reason


def test_subscribe_then_next_then_complete_from_the_client(client, sources):
    app = sources.cyclable_application()
    with socket(client) as s:
        s.subscribe("a", TRACK, {"n": app["no_permohonan"]})
        time.sleep(0.3)
        sources.move_application(app["no_permohonan"])
        event = s.next_data("a")["data"]["applicationTracking"]
        assert event["number"] == app["no_permohonan"] and event["kind"] == "STATUS_CHANGED"
        s.ws.send_json({"id": "a", "type": "complete"})
        # the id is free again once completed: the same id may subscribe anew
        s.subscribe("a", TRACK, {"n": app["no_permohonan"]})
        sources.move_application(app["no_permohonan"])
        assert s.next_data("a")["data"]["applicationTracking"]["number"] == app["no_permohonan"]


def test_ping_is_answered_with_pong(client):
    with socket(client) as s:
        s.ws.send_json({"type": "ping"})
        assert s.receive() == {"type": "pong"}


def test_a_subscription_that_ends_sends_complete(client, token):
    # a validation error is an `error` message for that operation; the socket stays open
    with socket(client) as s:
        s.subscribe("v", "subscription { applicationTracking(number: 1) { nope } }")
        message = s.receive()
        assert message["type"] == "error" and message["id"] == "v"
        assert message["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        s.ws.send_json({"type": "ping"})
        assert s.receive() == {"type": "pong"}


def test_4400_for_a_message_that_is_not_the_protocol(client):
    with socket(client) as s:
        s.ws.send_json({"type": "no-such-type"})
        assert "Unknown message type" in _closed_with(s.ws, 4400)
    with socket(client) as s:
        s.ws.send_text("{not json")
        _closed_with(s.ws, 4400)
    with socket(client) as s:
        s.ws.send_json({"id": "x", "type": "subscribe", "payload": {"query": 12}})
        _closed_with(s.ws, 4400)
    with socket(client) as s:
        s.subscribe("p", "subscription {")  # a syntax error closes, as the protocol says
        _closed_with(s.ws, 4400)
    # variables, operationName and extensions of the wrong kind: 4400, not an internal error
    for bad in ({"variables": "x"}, {"variables": [1]}, {"operationName": 5}, {"extensions": "x"}):
        with socket(client) as s:
            s.ws.send_json({"id": "b", "type": "subscribe", "payload": {"query": "{ __typename }", **bad}})
            assert "variables and extensions are objects" in _closed_with(s.ws, 4400), bad


def test_4401_for_a_subscribe_before_the_connection_is_acknowledged(client):
    with socket(client, init=False) as s:
        s.subscribe("early", TRACK, {"n": "x"})
        assert _closed_with(s.ws, 4401) == "Unauthorized"


def test_4403_for_a_token_that_does_not_validate(client, token):
    with socket(client, init=False) as s:
        s.ws.send_json({"type": "connection_init", "payload": {"Authorization": "Bearer not.a.token"}})
        assert _closed_with(s.ws, 4403).startswith("Forbidden")
    forged = token("citizen", nik="1471080101900001")["Authorization"][:-4] + "AAAA"
    with socket(client, init=False) as s:
        s.ws.send_json({"type": "connection_init", "payload": {"Authorization": forged}})
        _closed_with(s.ws, 4403)


def test_4409_for_a_second_subscription_with_the_same_id(client):
    with socket(client) as s:
        s.subscribe("same", TRACK, {"n": "503/X"})
        s.subscribe("same", TRACK, {"n": "503/Y"})
        assert "already exists" in _closed_with(s.ws, 4409)


def test_4429_for_a_second_connection_init(client):
    with socket(client) as s:
        s.ws.send_json({"type": "connection_init", "payload": {}})
        _closed_with(s.ws, 4429)


def test_4429_past_the_sockets_a_principal_may_hold(settings, token):
    limited = settings.model_copy(update={"events": EventSettings(max_connections_per_principal=2,
                                                                  poll_seconds=0.1)})
    officer = bearer(token("complaint_officer"))
    with TestClient(create_app(limited)) as client:
        with socket(client, officer), socket(client, officer):
            with client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
                ws.send_json({"type": "connection_init", "payload": officer})
                assert "Too many" in _closed_with(ws, 4429)
            with socket(client, bearer(token("kelurahan_officer", kelurahan="1471081001"))):
                pass  # another principal is not counted against this one
        with socket(client, officer):  # closed sockets are no longer counted
            pass


def test_4429_past_the_operations_of_one_socket(settings):
    limited = settings.model_copy(update={"events": EventSettings(max_operations_per_connection=2,
                                                                  poll_seconds=0.1)})
    with TestClient(create_app(limited)) as client, socket(client) as s:
        s.subscribe("1", TRACK, {"n": "a"})
        s.subscribe("2", TRACK, {"n": "b"})
        s.subscribe("3", TRACK, {"n": "c"})
        _closed_with(s.ws, 4429)


def test_4406_without_the_protocol(client):
    with client.websocket_connect("/graphql", subprotocols=["graphql-ws"]) as ws:
        _closed_with(ws, 4406)


def test_an_unauthorised_subscribe_gets_an_error_and_no_event(client, token, sources):
    # a field outside the role's schema: the anonymous caller has no caseUpdates
    with socket(client) as s:
        s.subscribe("u", "subscription { caseUpdates { id } }")
        message = s.receive()
        assert message["type"] == "error" and message["id"] == "u"
    # personal fields without a purpose: refused before any event, like a query
    with socket(client, bearer(token("complaint_officer"))) as s:
        s.subscribe("p", "subscription { caseUpdates { id complaint { reporterNik } } }")
        message = s.receive()
        assert message["type"] == "error"
        assert message["payload"][0]["extensions"]["code"] == "PURPOSE_REQUIRED"
    # a citizen's subscription needs a citizen's token
    with socket(client, bearer(token("kelurahan_officer", kelurahan="1471081001"))) as s:
        s.subscribe("m", "subscription { myCases { id } }")
        assert s.receive()["type"] == "error"


def test_the_socket_closes_with_4403_when_the_token_expires(client, token):
    short = bearer(token("complaint_officer", ttl=2))
    with socket(client, short) as s:
        s.subscribe("1", "subscription { caseUpdates { id } }")
        reason = _closed_with(s.ws, 4403)
        assert "expired" in reason


def test_the_socket_closes_with_4403_when_its_client_is_revoked(settings, client):
    import asyncio

    from auth.clients import add_client, revoke_client
    from hub.store import create_store_engine, write_transaction

    async def register() -> str:
        engine = create_store_engine(settings.resolved_store_url)
        async with write_transaction(engine) as conn:
            client_id, _ = await add_client(conn, roles=["analyst"], scopes=[], purpose=None,
                                            token_lifetime=600, name="dashboard")
        await engine.dispose()
        return client_id

    async def revoke(client_id: str) -> None:
        engine = create_store_engine(settings.resolved_store_url)
        async with write_transaction(engine) as conn:
            await revoke_client(conn, client_id)
        await engine.dispose()

    from hub.identity import development_issuer

    client_id = asyncio.run(register())
    issued = development_issuer(settings).issue(subject=client_id, roles=["analyst"], client_id=client_id)
    with socket(client, {"Authorization": f"Bearer {issued}"}) as s:
        s.subscribe("1", "subscription { caseUpdates { id } }")
        asyncio.run(revoke(client_id))
        assert "revoked" in _closed_with(s.ws, 4403)


def test_the_registry_closes_every_socket_for_a_graceful_shutdown(client):
    import anyio

    with socket(client) as a, socket(client) as b:
        sockets = client.app.state.subscription_sockets
        assert len(sockets) == 2
        closed = client.portal.call(sockets.close_all, 1001, "bye")
        assert closed == 2
        _closed_with(a.ws, 1001)
        _closed_with(b.ws, 1001)
    assert anyio  # the portal runs the coroutine on the app's loop
