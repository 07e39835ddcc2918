"""One JSON error shape on every path: an unexpected exception anywhere is 500 `INTERNAL`
with the request id (never a plain-text 500, never a traceback or the exception's
text), and the refusals made before GraphQL (413, 429, 401, 404, 405) look the same."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

import auth.oauth
import hub.app
import hub.probes
from auth.issuer import DevelopmentIssuer
from tests.support.hardening import assert_one_error_shape, guarded_sources, memory_settings
from tests.support.sample_world import World
from hub.app import create_app
from hub.graphql_view import HubGraphQL
from hub.metrics import HubMetrics
from hub.public.routes import _Figures

SECRET = "secret-detail /etc/shadow"


def boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError(SECRET)


async def aboom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError(SECRET)


#: (a way to break one path, the request that reaches it)
BROKEN = [
    pytest.param(lambda mp: mp.setattr(HubGraphQL, "get_context", aboom),
                 ("POST", "/graphql", {"json": {"query": "{ me { subject } }"}}), id="graphql-view"),
    pytest.param(lambda mp: mp.setattr(hub.app, "healthz", aboom), ("GET", "/healthz", {}), id="healthz"),
    pytest.param(lambda mp: mp.setattr(hub.probes, "probe_all", aboom), ("GET", "/readyz", {}), id="readyz"),
    pytest.param(lambda mp: mp.setattr(HubMetrics, "endpoint", aboom), ("GET", "/metrics", {}), id="metrics"),
    pytest.param(lambda mp: mp.setattr(auth.oauth, "_read_form", aboom),
                 ("POST", "/oauth/token", {"data": {"grant_type": "client_credentials"}}), id="oauth-token"),
    pytest.param(lambda mp: mp.setattr(DevelopmentIssuer, "jwks", boom),
                 ("GET", "/.well-known/jwks.json", {}), id="jwks"),
    pytest.param(lambda mp: mp.setattr(_Figures, "for_period", aboom),
                 ("GET", "/", {"headers": {"accept": "text/html"}}), id="public-page"),
]


@pytest.fixture
def app_factory(tmp_path: Path, world: World) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(**kwargs: Any) -> TestClient:
        app = create_app(memory_settings(tmp_path), sources=guarded_sources(world), **kwargs)
        client = TestClient(app, raise_server_exceptions=False)
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.mark.parametrize(("break_it", "request_"), BROKEN)
def test_an_unexpected_exception_is_a_json_internal_error_with_the_request_id(
    app_factory: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch,
    break_it: Callable[[pytest.MonkeyPatch], None], request_: tuple[str, str, dict[str, Any]],
) -> None:
    break_it(monkeypatch)
    client = app_factory()
    method, path, kwargs = request_
    headers = {"x-request-id": "req-internal-0001", **kwargs.pop("headers", {})}

    response = client.request(method, path, headers=headers, **kwargs)

    error = assert_one_error_shape(response, 500, "INTERNAL")
    assert error["extensions"]["requestId"] == "req-internal-0001"
    assert "req-internal-0001" in error["message"]
    assert SECRET not in response.text and "RuntimeError" not in response.text


def test_a_failing_authenticator_is_a_json_internal_error(app_factory: Callable[..., TestClient]) -> None:
    client = app_factory(authenticate=aboom)
    response = client.post("/graphql", json={"query": "{ me { subject } }"}, headers={"authorization": "Bearer x"})
    assert_one_error_shape(response, 500, "INTERNAL")
    assert SECRET not in response.text


def test_the_hub_answers_normally_after_an_unexpected_exception(
    app_factory: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real = hub.app.healthz

    async def once(request: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError(SECRET)
        return await real(request)

    monkeypatch.setattr(hub.app, "healthz", once)
    client = app_factory()
    assert client.get("/healthz").status_code == 500
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("request_", "status", "code"),
    [
        pytest.param(("GET", "/no/such/page", {}), 404, "NOT_FOUND", id="unknown-path"),
        pytest.param(("DELETE", "/graphql", {}), 405, "METHOD_NOT_ALLOWED", id="method-not-allowed"),
        pytest.param(("GET", "/oauth/token", {}), 405, "METHOD_NOT_ALLOWED", id="token-endpoint-get"),
        pytest.param(("POST", "/graphql", {"content": b"x" * 300_000,
                                           "headers": {"content-type": "application/json"}}),
                     413, "PAYLOAD_TOO_LARGE", id="body-limit"),
        pytest.param(("POST", "/graphql", {"json": {"query": "{ me { subject } }"},
                                           "headers": {"authorization": "Bearer not.a.token"}}),
                     401, "UNAUTHENTICATED", id="authentication"),
    ],
)
def test_refusals_before_graphql_have_the_one_error_shape(
    app_factory: Callable[..., TestClient], request_: tuple[str, str, dict[str, Any]], status: int, code: str
) -> None:
    method, path, kwargs = request_
    assert_one_error_shape(app_factory().request(method, path, **kwargs), status, code)


def test_a_rate_limited_request_has_the_one_error_shape(tmp_path: Path, world: World) -> None:
    settings = memory_settings(tmp_path, rate_limits={"per_client": {"anonymous": 1, "default": 1}})
    with TestClient(create_app(settings, sources=guarded_sources(world))) as client:
        client.post("/graphql", json={"query": "{ me { subject } }"})
        response = client.post("/graphql", json={"query": "{ me { subject } }"})
    error = assert_one_error_shape(response, 429, "RATE_LIMITED")
    assert error["extensions"]["retryAfter"] == int(response.headers["retry-after"])



def test_a_query_or_mutation_asked_to_stream_is_a_bad_request_not_an_internal_error(
    tmp_path: Path, world: World, token: Callable[..., dict[str, str]]
) -> None:
    # `Accept: multipart/mixed` streams subscriptions only; anything else was INTERNAL with a traceback
    stream = {"accept": 'multipart/mixed;subscriptionSpec="1.0"', **token("population_officer")}
    with TestClient(create_app(memory_settings(tmp_path), sources=guarded_sources(world))) as client:
        for kind, document in (("query", "{ me { subject } }"),
                               ("mutation", "mutation { setNotifications(enabled: true) }")):
            answer = client.post("/graphql", json={"query": document}, headers=stream)
            assert "INTERNAL" not in answer.text, answer.text
            assert '"code":"BAD_REQUEST"' in answer.text and f"A {kind} does not stream" in answer.text
