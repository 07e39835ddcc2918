"""Every class of broken token through the real HTTP app, from the hub's own issuer and
from an external identity provider reached over HTTP: each answer is the one JSON
error shape with its code and the RFC 6750 challenge (401 `invalid_token`, 403
`insufficient_scope`) or Retry-After (503), never a 500 and never the anonymous caller.
Roles the policy does not know are dropped before anything else sees them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from joserfc import jws
from starlette.testclient import TestClient

from auth.issuer import DevelopmentIssuer
from tests.support.hardening import assert_one_error_shape, guarded_sources, memory_settings
from tests.support.sample_world import build_world
from hub.app import create_app
from hub.identity import development_issuer
from hub.settings import IssuerSettings, Settings

IDP = "https://sso.example.test/realms/simpul"
AUDIENCE = "simpul"
ME = {"query": "{ me { subject roles anonymous nik } }"}
NIK = "1471080101900001"
IDP_OWN_ROLES = ["offline_access", "uma_authorization", "default-roles-simpul"]


def b64(data: bytes | dict[str, Any] | list[Any]) -> str:
    if not isinstance(data, bytes):
        data = json.dumps(data).encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class JWKSServer:
    """The identity provider's key endpoint on 127.0.0.1, answering as `mode` says."""

    def __init__(self, issuer: DevelopmentIssuer) -> None:
        self.issuer = issuer
        self.mode = "ok"
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server API)
                status, body = server.answer()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/certs"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer(self) -> tuple[int, bytes]:
        if self.mode == "5xx":
            return 502, b"Bad Gateway"
        if self.mode == "garbage":
            return 200, b"<html>maintenance</html>"
        return 200, json.dumps(self.issuer.jwks()).encode()

    def __enter__(self) -> JWKSServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def closed_port_url() -> str:
    """An address where nothing listens (the identity provider is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/certs"


def idp_settings(tmp_path: Path, jwks_uri: str) -> Settings:
    """The hub's own issuer (development tokens on) and the identity provider's."""
    issuer = {"development": True, "external_issuer": IDP, "jwks_uri": jwks_uri,
              "claims": {"roles": "realm_access.roles"}}
    return memory_settings(tmp_path).model_copy(update={"issuer": IssuerSettings(**issuer)})


@pytest.fixture(scope="module")
def idp() -> DevelopmentIssuer:
    return DevelopmentIssuer.ephemeral(issuer=IDP, audience=AUDIENCE)


@pytest.fixture(scope="module")
def jwks_server(idp: DevelopmentIssuer) -> Iterator[JWKSServer]:
    with JWKSServer(idp) as server:
        yield server


@dataclass
class Hub:
    client: TestClient
    own: DevelopmentIssuer  # the hub's issuer
    idp: DevelopmentIssuer  # the external identity provider


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, idp: DevelopmentIssuer, jwks_server: JWKSServer) -> Iterator[Hub]:
    settings = idp_settings(tmp_path_factory.mktemp("tokens"), jwks_server.url)
    with TestClient(create_app(settings, sources=guarded_sources(build_world()))) as client:
        yield Hub(client, development_issuer(settings), idp)


def claims(iss: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {"iss": iss, "aud": AUDIENCE, "sub": "user-1", "iat": now, "exp": now + 600}
    if iss == IDP:
        base["realm_access"] = {"roles": [*IDP_OWN_ROLES, "analyst"]}
    else:
        base["roles"] = ["analyst"]
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def own(**overrides: Any) -> Callable[[Hub], str]:
    return lambda hub: hub.own.sign(claims(hub.own.issuer, **overrides))


def theirs(**overrides: Any) -> Callable[[Hub], str]:
    return lambda hub: hub.idp.sign(claims(IDP, **overrides))


def unsigned(header: dict[str, Any] | bytes, payload: dict[str, Any] | bytes, signature: str = "c2ln") -> Callable[[Hub], str]:
    return lambda hub: f"{b64(header)}.{b64(payload)}.{signature}"


def alg_none(hub: Hub) -> str:
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims(hub.own.issuer))}."


def hs256_with_the_public_key(hub: Hub) -> str:
    public = hub.own.signing_key_set().keys[0].as_pem(private=False)
    signing_input = f"{b64({'alg': 'HS256', 'kid': hub.own.current_kid})}.{b64(claims(hub.own.issuer))}"
    mac = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def unknown_kid(issuer: Callable[[Hub], DevelopmentIssuer]) -> Callable[[Hub], str]:
    def make(hub: Hub) -> str:
        key = DevelopmentIssuer.ephemeral(issuer="x", audience="x").signing_key_set().keys[0]
        payload = json.dumps(claims(issuer(hub).issuer))
        return jws.serialize_compact({"alg": "ES256", "kid": "no-such-key"}, payload, key, algorithms=["ES256"])

    return make


def tampered(hub: Hub) -> str:
    header, _, signature = own()(hub).split(".")
    return f"{header}.{b64(claims(hub.own.issuer, roles=['auditor']))}.{signature}"


def deep(hub: Hub) -> str:
    nested = b'{"iss": ' + b"[" * 3000 + b"]" * 3000 + b"}"
    return f"{b64({'alg': 'ES256'})}.{b64(nested)}.c2ln"


LATER = int(time.time()) + 3600
INVALID = [  # 401 invalid_token
    pytest.param(alg_none, "algorithm", id="alg-none"),
    pytest.param(hs256_with_the_public_key, "algorithm", id="hs256-signed-with-the-public-key"),
    pytest.param(unknown_kid(lambda hub: hub.own), "unknown key", id="unknown-kid"),
    pytest.param(unknown_kid(lambda hub: hub.idp), "unknown key", id="unknown-kid-after-a-jwks-refresh"),
    pytest.param(tampered, "signature", id="tampered-payload"),
    pytest.param(own(exp=int(time.time()) - 120), "expired", id="expired"),
    pytest.param(theirs(exp=int(time.time()) - 120), "expired", id="expired-idp"),
    pytest.param(own(nbf=LATER), "not yet valid", id="not-yet-valid"),
    pytest.param(own(iat=LATER), "future", id="issued-in-the-future"),
    pytest.param(lambda hub: DevelopmentIssuer.ephemeral(issuer="https://evil.example", audience=AUDIENCE)
                 .issue(subject="x", roles=["analyst"]), "issuer", id="wrong-issuer"),
    pytest.param(own(aud="another-app"), "audience", id="wrong-audience"),
    pytest.param(unsigned({"alg": "ES256"}, b"!!not base64!!"), "malformed", id="malformed-base64"),
    pytest.param(lambda hub: "!!!.@@@.###", "malformed", id="malformed-base64-everywhere"),
    pytest.param(unsigned({"alg": "ES256"}, b"{not json"), "malformed", id="payload-not-json"),
    pytest.param(unsigned({"alg": "ES256"}, b"[1, 2]"), "not a JSON object", id="payload-not-an-object"),
    pytest.param(unsigned(b"{not json", {"iss": IDP}), "malformed", id="header-not-json"),
    pytest.param(lambda hub: "abc.def", "three", id="two-parts"),
    pytest.param(deep, "malformed", id="deeply-nested-payload"),
    pytest.param(lambda hub: "a" * 9000, "too large", id="huge-token"),
    pytest.param(own(department="x" * 9000), "too large", id="huge-claim"),
    # claims of the wrong type or format, from either issuer
    pytest.param(unsigned({"alg": "ES256"}, {"iss": [IDP]}), "issuer", id="issuer-a-list"),
    pytest.param(unsigned({"alg": "ES256"}, {"iss": {"url": IDP}}), "issuer", id="issuer-an-object"),
    pytest.param(own(aud=7), "'aud'", id="audience-a-number"),
    pytest.param(theirs(aud={"simpul": True}), "'aud'", id="audience-an-object"),
    pytest.param(own(sub=7), "'sub'", id="subject-a-number"),
    pytest.param(theirs(sub=["user-1"]), "'sub'", id="subject-a-list"),
    pytest.param(own(exp="tomorrow"), "'exp'", id="expiry-text"),
    pytest.param(theirs(exp=[LATER]), "'exp'", id="expiry-a-list"),
    pytest.param(own(nbf="now"), "'nbf'", id="not-before-text"),
    pytest.param(own(iat={"at": 1}), "'iat'", id="issued-at-an-object"),
    pytest.param(own(roles=7), "roles", id="roles-a-number"),
    pytest.param(own(roles=[["analyst"]]), "roles", id="roles-nested"),
    pytest.param(theirs(realm_access={"roles": {"analyst": True}}), "roles", id="idp-roles-an-object"),
    pytest.param(theirs(realm_access={"roles": [{"name": "analyst"}]}), "roles", id="idp-roles-nested"),
    pytest.param(own(roles=["kelurahan_officer"], kelurahan=1471081001), "kelurahan", id="kelurahan-a-number"),
    pytest.param(own(roles=["kelurahan_officer"], kelurahan="simpang baru"), "kelurahan", id="kelurahan-not-a-code"),
    pytest.param(own(roles=["citizen"], nik=int(NIK)), "nik", id="nik-a-number"),
    pytest.param(own(roles=["citizen"], nik="1471-0801-0190"), "nik", id="nik-not-16-digits"),
    pytest.param(theirs(nik="١٤٧١٠٨٠١٠١٩٠٠٠٠١"), "nik", id="nik-in-arabic-indic-digits"),
]
NO_KNOWN_ROLE = [  # 403 insufficient_scope: valid, but grants nothing the policy knows
    pytest.param(own(roles=None), id="no-roles"),
    pytest.param(own(roles=["superuser"]), id="only-unknown-roles"),
    pytest.param(own(roles=["anonymous"]), id="only-the-anonymous-role"),
    pytest.param(theirs(realm_access={"roles": IDP_OWN_ROLES}), id="only-the-idps-own-roles"),
]


@pytest.mark.parametrize(("make", "reason"), INVALID)
def test_a_broken_token_is_401_invalid_token(hub: Hub, make: Callable[[Hub], str], reason: str) -> None:
    token = make(hub)
    response = hub.client.post("/graphql", json=ME, headers={"Authorization": f"Bearer {token}"})

    error = assert_one_error_shape(response, 401, "UNAUTHENTICATED")
    assert reason.lower() in error["message"].lower()
    challenge = response.headers["www-authenticate"]
    assert re.fullmatch(r'Bearer error="invalid_token", error_description="[^"\\]*"', challenge), challenge
    assert token[:40] not in response.text  # the token is never echoed


@pytest.mark.parametrize("make", NO_KNOWN_ROLE)
def test_a_token_with_no_role_the_policy_knows_is_403_not_anonymous(hub: Hub, make: Callable[[Hub], str]) -> None:
    response = hub.client.post("/graphql", json=ME, headers={"Authorization": f"Bearer {make(hub)}"})

    error = assert_one_error_shape(response, 403, "FORBIDDEN")
    assert "no role this hub knows" in error["message"]
    assert response.headers["www-authenticate"].startswith('Bearer error="insufficient_scope"')


@pytest.mark.parametrize(
    ("make", "roles"),
    [
        pytest.param(theirs(realm_access={"roles": [*IDP_OWN_ROLES, "citizen"]}, nik=NIK), ["anonymous", "citizen"],
                     id="citizen-through-the-idp"),
        pytest.param(own(roles=["analyst", "superuser", "offline_access"]), ["analyst"], id="service-account"),
    ],
)
def test_roles_the_policy_does_not_know_are_dropped(hub: Hub, make: Callable[[Hub], str], roles: list[str]) -> None:
    response = hub.client.post("/graphql", json=ME, headers={"Authorization": f"Bearer {make(hub)}"})

    assert response.status_code == 200, response.text
    me = response.json()["data"]["me"]
    assert sorted(set(me["roles"]) - {"anonymous"}) == [r for r in roles if r != "anonymous"]
    assert me["anonymous"] is False


@pytest.mark.parametrize("outage", ["down", "5xx", "garbage"])
def test_an_identity_provider_outage_is_503_with_retry_after(
    tmp_path: Path, idp: DevelopmentIssuer, jwks_server: JWKSServer, outage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = closed_port_url() if outage == "down" else jwks_server.url
    monkeypatch.setattr(jwks_server, "mode", outage)
    settings = idp_settings(tmp_path, url)
    token = idp.sign(claims(IDP))
    with TestClient(create_app(settings, sources=guarded_sources(build_world()))) as client:
        for _ in range(3):  # and again, without a new fetch each time
            response = client.post("/graphql", json=ME, headers={"Authorization": f"Bearer {token}"})
            error = assert_one_error_shape(response, 503, "IDENTITY_UNAVAILABLE")
            assert response.headers["retry-after"] == str(error["extensions"]["retryAfter"])
            assert "www-authenticate" not in response.headers
        own_token = development_issuer(settings).issue(subject="svc", roles=["analyst"])
        mine = client.post("/graphql", json=ME, headers={"Authorization": f"Bearer {own_token}"})
        assert mine.json()["data"]["me"]["roles"] == ["analyst"]  # the hub's own tokens still work
