"""``POST /oauth/token``: the client-credentials grant, end to end through Starlette."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from auth.clients import add_client, metadata, revoke_client
from auth.issuer import DevelopmentIssuer
from auth.oauth import jwks_endpoint, token_endpoint
from auth.tokens import TokenValidator

ISSUER = "https://hub.example.test"
AUDIENCE = "simpul"


class Hub:
    """A minimal app with the token endpoint, and the clients registered for a test."""

    def __init__(self, tmp_path: Path) -> None:
        # NullPool: the test's event loop and TestClient's each open their own connections
        self.engine: AsyncEngine = create_async_engine(
            f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}", poolclass=NullPool
        )
        self.issuer = DevelopmentIssuer.load_or_create(
            tmp_path / "issuer", issuer=ISSUER, audience=AUDIENCE
        )
        self.dashboard = asyncio.run(self._setup())

    async def _setup(self) -> tuple[str, str]:
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            return await add_client(
                conn,
                client_id="dashboard",
                roles=["analyst"],
                scopes=["metrics:read", "reports:read"],
                purpose="statistics",
                token_lifetime=120,
            )

    def add(self, **kwargs: Any) -> tuple[str, str]:
        async def run() -> tuple[str, str]:
            async with self.engine.begin() as conn:
                return await add_client(conn, **kwargs)

        return asyncio.run(run())

    def revoke(self, client_id: str) -> None:
        async def run() -> None:
            async with self.engine.begin() as conn:
                await revoke_client(conn, client_id)

        asyncio.run(run())

    def app(self, *, require_https: bool = False) -> Starlette:
        return Starlette(
            routes=[
                Route(
                    "/oauth/token",
                    token_endpoint(issuer=self.issuer, engine=self.engine, require_https=require_https),
                    methods=["POST"],
                ),
                Route("/.well-known/jwks.json", jwks_endpoint(issuer=self.issuer)),
            ]
        )

    def validator(self) -> TokenValidator:
        return TokenValidator(issuer=ISSUER, audience=AUDIENCE, key_source=self.issuer.key_source())


@pytest.fixture
def hub(tmp_path: Path) -> Hub:
    return Hub(tmp_path)


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(hub.app()) as client:
        yield client


def basic(client_id: str, secret: str) -> dict[str, str]:
    credentials = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {credentials}"}


def test_basic_auth_yields_a_token_that_maps_to_the_clients_principal(
    hub: Hub, client: TestClient
) -> None:
    client_id, secret = hub.dashboard
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret)
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 120
    assert set(body["scope"].split()) == {"metrics:read", "reports:read"}
    assert "refresh_token" not in body

    principal = asyncio.run(hub.validator().authenticate(f"Bearer {body['access_token']}"))
    assert principal.subject == "dashboard"
    assert principal.client_id == "dashboard"
    assert principal.roles == frozenset({"analyst"})
    assert principal.purpose == "statistics"
    assert principal.scopes == frozenset({"metrics:read", "reports:read"})


def test_access_token_follows_rfc_9068(hub: Hub, client: TestClient) -> None:
    client_id, secret = hub.dashboard
    body = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret)
    ).json()
    jwks = client.get("/.well-known/jwks.json").json()
    token = jwt.decode(body["access_token"], KeySet.import_key_set(jwks), algorithms=["ES256"])
    assert token.header["typ"] == "at+jwt"
    assert token.header["kid"] == hub.issuer.current_kid
    claims = token.claims
    assert claims["iss"] == ISSUER
    assert claims["aud"] == AUDIENCE  # the hub, not the client
    assert claims["sub"] == claims["client_id"] == "dashboard"
    assert claims["roles"] == ["analyst"]
    assert claims["jti"]
    assert claims["exp"] - claims["iat"] == 120
    assert abs(claims["iat"] - time.time()) < 5


def test_client_secret_post_works_too(hub: Hub, client: TestClient) -> None:
    client_id, secret = hub.dashboard
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": "reports:read",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "reports:read"
    principal = asyncio.run(hub.validator().authenticate(f"Bearer {response.json()['access_token']}"))
    assert principal.scopes == frozenset({"reports:read"})


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param(lambda cid, secret: ({}, {"client_id": cid, "client_secret": secret + "x"}), id="post-wrong-secret"),
        pytest.param(lambda cid, secret: (basic(cid, "wrong"), {}), id="basic-wrong-secret"),
        pytest.param(lambda cid, secret: (basic("nobody", secret), {}), id="basic-unknown-client"),
        pytest.param(lambda cid, secret: ({}, {"client_id": "nobody", "client_secret": "x"}), id="post-unknown-client"),
        pytest.param(lambda cid, secret: ({}, {"client_id": cid}), id="post-no-secret"),
        pytest.param(lambda cid, secret: ({}, {}), id="no-credentials"),
        pytest.param(lambda cid, secret: ({"Authorization": "Basic %%%"}, {}), id="garbled-basic"),
        pytest.param(lambda cid, secret: ({"Authorization": "Basic " + base64.b64encode(b"\xff:\xfe").decode()}, {}), id="basic-not-utf8"),
    ],
)
def test_failed_client_authentication_is_invalid_client(
    hub: Hub, client: TestClient, credentials: Any
) -> None:
    headers, form = credentials(*hub.dashboard)
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials", **form}, headers=headers
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "access_token" not in response.json()


def test_unknown_and_wrong_secret_answers_look_alike(hub: Hub, client: TestClient) -> None:
    client_id, _ = hub.dashboard
    wrong = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, "x"))
    unknown = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic("ghost", "x"))
    assert wrong.json() == unknown.json()
    assert wrong.headers["www-authenticate"].startswith("Basic ")


def test_revoked_client_gets_invalid_client(hub: Hub, client: TestClient) -> None:
    client_id, secret = hub.add(client_id="old-bridge", roles=["licensing_officer"])
    ok = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret))
    assert ok.status_code == 200
    hub.revoke(client_id)
    refused = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret))
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("grant_type", "error"),
    [
        pytest.param("password", "unsupported_grant_type", id="password"),
        pytest.param("authorization_code", "unsupported_grant_type", id="authorization-code"),
        pytest.param("urn:ietf:params:oauth:grant-type:jwt-bearer", "unsupported_grant_type", id="jwt-bearer"),
        pytest.param("", "invalid_request", id="empty"),
    ],
)
def test_other_grant_types_are_refused(hub: Hub, client: TestClient, grant_type: str, error: str) -> None:
    response = client.post("/oauth/token", data={"grant_type": grant_type}, headers=basic(*hub.dashboard))
    assert response.status_code == 400
    assert response.json()["error"] == error


@pytest.mark.parametrize(
    "scope",
    [
        pytest.param("citizens:read", id="foreign-scope"),
        pytest.param("reports:read citizens:read", id="partly-foreign"),
    ],
)
def test_requested_scope_must_be_a_subset_of_the_clients(hub: Hub, client: TestClient, scope: str) -> None:
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": scope},
        headers=basic(*hub.dashboard),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        pytest.param({"content": b'{"grant_type": "client_credentials"}', "headers": {"Content-Type": "application/json"}}, "invalid_request", id="json-body"),
        pytest.param({"content": b"grant_type=client_credentials&grant_type=password", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, "invalid_request", id="repeated-parameter"),
        pytest.param({"content": b"a=" + b"x" * 10_000, "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, "invalid_request", id="oversized-body"),
        pytest.param({"content": b"\xff\xfe", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, "invalid_request", id="not-utf8"),
    ],
)
def test_malformed_requests_are_invalid_request(hub: Hub, client: TestClient, kwargs: dict[str, Any], error: str) -> None:
    headers = {**basic(*hub.dashboard), **kwargs.pop("headers")}
    response = client.post("/oauth/token", headers=headers, **kwargs)
    assert response.status_code == 400
    assert response.json()["error"] == error


def test_two_authentication_methods_at_once_are_refused(hub: Hub, client: TestClient) -> None:
    client_id, secret = hub.dashboard
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        headers=basic(client_id, secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_plain_http_is_refused_unless_loopback_when_https_is_required(hub: Hub) -> None:
    client_id, secret = hub.dashboard
    app = hub.app(require_https=True)
    with TestClient(app, base_url="http://hub.example.test") as remote:
        response = remote.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret))
        assert response.status_code == 400
        assert response.json()["error"] == "insecure_transport"
    with TestClient(app, base_url="http://127.0.0.1") as local:
        response = local.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret))
        assert response.status_code == 200
    with TestClient(app, base_url="https://hub.example.test") as secure:
        response = secure.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret))
        assert response.status_code == 200


def test_tokens_signed_before_a_key_rotation_keep_validating(hub: Hub, client: TestClient) -> None:
    client_id, secret = hub.dashboard
    before = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret)).json()
    hub.issuer.rotate()
    after = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret)).json()
    validator = hub.validator()
    for body in (before, after):
        assert asyncio.run(validator.authenticate(f"Bearer {body['access_token']}")).roles == {"analyst"}
    assert len(client.get("/.well-known/jwks.json").json()["keys"]) == 2


def test_unreachable_client_store_is_temporarily_unavailable(tmp_path: Path) -> None:
    issuer = DevelopmentIssuer.ephemeral(issuer=ISSUER, audience=AUDIENCE)
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'hub.db'}", poolclass=NullPool)
    app = Starlette(routes=[Route("/oauth/token", token_endpoint(issuer=issuer, engine=engine, require_https=False), methods=["POST"])])
    with TestClient(app) as client:
        response = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic("dashboard", "x"))
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
