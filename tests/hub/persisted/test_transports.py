"""Persisted documents over the other transports of `/graphql`: a graphql-transport-ws
`subscribe` and an HTTP multipart request name their document as a request over HTTP
does (`documentId`, `extensions.persistedQuery`), under the same persisted-only rule and
with the same refusal codes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from hub.app import create_app
from hub.settings import RateLimitSettings, Settings
from tests.hub.persisted.support import ME, by_hash, sha
from tests.hub.persisted.test_requests import push
from tests.support.browser import serving
from tests.support.hardening import Headers, guarded_sources
from tests.support.sample_world import build_world

Token = Callable[..., Headers]
Args = Callable[..., list[str]]
CASES = "subscription Cases { caseUpdates { id status } }"
METRICS = "subscription M { serviceMetricsUpdated { complaints { total } } }"
MULTIPART = 'multipart/mixed;subscriptionSpec="1.0", application/json'


class Socket:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = 0

    def run(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Subscribe with `payload`; the first message about it (`next` or `error`)."""
        self.ids += 1
        op_id = str(self.ids)
        self.ws.send_json({"id": op_id, "type": "subscribe", "payload": payload})
        message = self.ws.receive_json()
        assert message["id"] == op_id, message
        return message

    def alive(self) -> bool:
        self.ws.send_json({"type": "ping"})
        return self.ws.receive_json() == {"type": "pong"}


@contextmanager
def socket(client: TestClient, token: Headers | None = None, **init: str) -> Iterator[Socket]:
    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init", "payload": {**(token or {}), **init}})
        assert ws.receive_json() == {"type": "connection_ack"}
        yield Socket(ws)


def error_code(message: dict[str, Any]) -> str:
    assert message["type"] == "error", message
    return str(message["payload"][0]["extensions"]["code"])


def test_a_persisted_only_role_runs_its_pushed_operations_over_a_socket(
        client: TestClient, hub_args: Args, tmp_path: Path, token: Token) -> None:
    push(hub_args, tmp_path, "dashboard", ME, CASES, roles=("analyst",))
    with socket(client, token("analyst"), **{"X-Client-Name": "dashboard"}) as s:
        ran = s.run({"documentId": sha(ME)})
        assert ran["type"] == "next" and ran["payload"]["data"]["me"]["roles"] == ["analyst"], ran
        assert s.ws.receive_json()["type"] == "complete"
        hashed = s.run(by_hash(ME))  # Apollo's form of the id
        assert hashed["payload"]["data"]["me"]["roles"] == ["analyst"]
        assert s.ws.receive_json()["type"] == "complete"
        # a pushed subscription starts (no error; it waits for events), the socket lives on
        s.ws.send_json({"id": "sub", "type": "subscribe", "payload": {"documentId": f"sha256:{sha(CASES)}"}})
        assert s.alive()
        # the document as text, an APQ registration, an unknown id: refused with HTTP's codes
        assert error_code(s.run({"query": ME})) == "PERSISTED_QUERY_REQUIRED"
        assert error_code(s.run(by_hash("{ me { subject } }", with_query=True))) == "PERSISTED_QUERY_REQUIRED"
        assert error_code(s.run({"documentId": "nope"})) == "PERSISTED_QUERY_NOT_FOUND"
        assert s.alive()
    # the handshake's header names the client too; without a client nothing is found
    with socket(client, token("analyst")) as s:
        assert error_code(s.run({"documentId": sha(ME)})) == "PERSISTED_QUERY_NOT_FOUND"


def test_apq_over_a_socket_misses_registers_and_hits(client: TestClient, token: Token) -> None:
    document = "{ me { subject } }"
    with socket(client, token("auditor")) as s:
        missed = s.run(by_hash(document))
        assert error_code(missed) == "PERSISTED_QUERY_NOT_FOUND"
        assert missed["payload"][0]["message"] == "PersistedQueryNotFound"
        registered = s.run(by_hash(document, with_query=True))
        assert registered["payload"]["data"]["me"]["subject"] == "t-auditor"
        assert s.ws.receive_json()["type"] == "complete"
        hit = s.run(by_hash(document))
        assert hit["payload"]["data"]["me"]["subject"] == "t-auditor"
        assert s.ws.receive_json()["type"] == "complete"
        wrong = by_hash(document)
        wrong["query"] = "{ me { roles } }"
        assert error_code(s.run(wrong)) == "PERSISTED_QUERY_HASH_MISMATCH"
        assert error_code(s.run({"extensions": {"persistedQuery": {"version": 2}}})) == "BAD_REQUEST"
        invalid = "{ citizens(first: 1) { totalCount } }"  # not in the auditor's schema: never kept
        assert error_code(s.run(by_hash(invalid, with_query=True))) == "GRAPHQL_VALIDATION_FAILED"
        assert error_code(s.run(by_hash(invalid))) == "PERSISTED_QUERY_NOT_FOUND"
    # kept in the store: a plain HTTP request finds it by its hash
    assert client.post("/graphql", json=by_hash(document), headers=token("auditor")).json()["data"]


@pytest.mark.parametrize("payload", [
    pytest.param({"query": ME, "documentId": "x"}, id="query-and-id"),
    pytest.param({"documentId": 5}, id="id-not-a-string"),
    pytest.param({"variables": {}}, id="no-document"),
])
def test_a_subscribe_naming_no_document_or_two_closes_with_4400(client: TestClient, payload: dict) -> None:
    with socket(client) as s:
        s.ws.send_json({"id": "x", "type": "subscribe", "payload": payload})
        with pytest.raises(WebSocketDisconnect) as closed:
            s.ws.receive_json()
        assert closed.value.code == 4400


def test_a_client_name_that_is_not_a_string_closes_the_socket(client: TestClient) -> None:
    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"X-Client-Name": ["a"]}})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4400


def _first_part(url: str, body: dict[str, Any], headers: Headers) -> str:
    """The first part of a multipart answer (a subscription streams on: read no further),
    or the whole answer when it is not multipart (a refusal before anything streams)."""
    with httpx.stream("POST", f"{url}/graphql", json=body, timeout=20,
                      headers={**headers, "Accept": MULTIPART}) as answer:
        if not answer.headers["content-type"].startswith("multipart/mixed"):
            return answer.read().decode()
        for line in answer.iter_lines():
            if line.startswith("{") and "payload" in line:
                return line
    raise AssertionError("no part")


def test_http_multipart_resolves_persisted_documents_as_a_request_does(
        settings: Settings, hub_args: Args, tmp_path: Path, token: Token) -> None:
    push(hub_args, tmp_path, "dashboard", METRICS, roles=("analyst",))
    analyst = {**token("analyst"), "X-Client-Name": "dashboard"}
    officer = token("population_officer")  # not held to pushed operations
    with serving(create_app(settings, sources=guarded_sources(build_world()))) as url:
        ran = _first_part(url, {"documentId": sha(METRICS)}, analyst)
        assert '"serviceMetricsUpdated":{"complaints":{"total"' in ran, ran
        other = "subscription N { serviceMetricsUpdated { applications { total } } }"
        for refused in ({"query": METRICS}, by_hash(other, with_query=True)):
            assert "PERSISTED_QUERY_REQUIRED" in _first_part(url, refused, analyst)
        assert "PERSISTED_QUERY_NOT_FOUND" in _first_part(url, {"documentId": "nope"}, analyst)
        # an APQ registration over multipart is kept once it ran, as over plain HTTP
        assert "PERSISTED_QUERY_NOT_FOUND" in _first_part(url, by_hash(METRICS), officer)
        assert "PERSISTED_QUERY_HASH_MISMATCH" in _first_part(url, {**by_hash(METRICS), "query": ME}, officer)
        assert '"total"' in _first_part(url, by_hash(METRICS, with_query=True), officer)
        assert '"total"' in _first_part(url, by_hash(METRICS), officer)


def test_operations_refused_or_completed_leave_nothing_behind(settings: Settings) -> None:
    """Past the rate limit (or completed at once) an operation keeps no request on its socket."""
    limited = settings.model_copy(update={"rate_limits": RateLimitSettings(per_client={"anonymous": 3})})
    with TestClient(create_app(limited, sources=guarded_sources(build_world()))) as client, socket(client) as s:
        for i in range(30):
            s.ws.send_json({"id": f"c{i}", "type": "subscribe", "payload": {"query": "{ __typename }"}})
            if i % 2:
                s.ws.send_json({"id": f"c{i}", "type": "complete"})
        s.ws.send_json({"type": "ping"})
        while s.ws.receive_json()["type"] != "pong":  # the answers before it
            pass
        [handler] = list(client.app.state.subscription_sockets._sockets)  # type: ignore[attr-defined]
        assert handler.requests == {}
