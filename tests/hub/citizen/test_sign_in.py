"""Signing in to the citizen page: OpenID Connect authorization code with PKCE against
the development identity provider, the session cookie, and refusals of everything
tampered with: the state, the code, the verifier, the ID token, the redirect after sign-in."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx
import pytest

from hub.citizen import dev_idp
from hub.citizen.signin import safe_next
from tests.support.citizen import choose_resident, cookie_header, sign_in, start_sign_in


def test_sign_in_runs_the_code_flow_with_pkce_and_a_nonce(browser_client: httpx.Client,
                                                          people: list[tuple[str, str]]) -> None:
    nik, _ = people[0]
    params = start_sign_in(browser_client)
    assert params["_url"].endswith("/dev-idp/authorize")
    assert params["response_type"] == "code" and params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43 and params["state"] and params["nonce"]
    assert "openid" in params["scope"].split()
    callback = choose_resident(browser_client, params, nik)
    done = browser_client.get(callback)
    assert done.status_code == 303 and done.headers["location"] == "/warga/"
    cookie = cookie_header(done).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/warga" in cookie
    assert "secure" not in cookie  # served over http here (test_session: Secure over https)
    home = browser_client.get("/warga/")
    assert home.status_code == 200 and "Permohonan saya" in home.text and "Keluar" in home.text
    assert nik not in str(done.headers.get("location"))  # nothing of the session in a URL


def test_a_tampered_state_or_a_replayed_code_is_refused(browser_client: httpx.Client,
                                                        people: list[tuple[str, str]]) -> None:
    nik, _ = people[0]
    callback = choose_resident(browser_client, start_sign_in(browser_client), nik)
    tampered = callback.replace("state=", "state=x")
    refused = browser_client.get(tampered)
    assert refused.status_code == 400 and 'id="kode">SIGNIN_FAILED<' in refused.text
    assert "Permohonan saya" not in browser_client.get("/warga/").text
    # the state is used up once tried; a new flow, its code used twice
    callback = choose_resident(browser_client, start_sign_in(browser_client), nik)
    assert browser_client.get(callback).status_code == 303
    browser_client.cookies.clear()
    again = browser_client.get(callback)  # another browser (no state in its session)
    assert again.status_code == 400 and "SIGNIN_FAILED" in again.text


def test_a_callback_in_another_browser_is_refused(url: str, people: list[tuple[str, str]]) -> None:
    """Login CSRF: a code and state obtained by an attacker do not sign in a victim's browser."""
    nik, _ = people[1]
    with httpx.Client(base_url=url) as attacker, httpx.Client(base_url=url) as victim:
        callback = choose_resident(attacker, start_sign_in(attacker), nik)
        refused = victim.get(callback)
        assert refused.status_code == 400 and "SIGNIN_FAILED" in refused.text
        assert "Keluar" not in victim.get("/warga/").text


def test_the_provider_refuses_a_wrong_verifier_and_a_wrong_redirect(url: str, hub: Any,
                                                                    people: list[tuple[str, str]]) -> None:
    settings = hub[1].citizen
    with httpx.Client(base_url=url) as client:
        params = start_sign_in(client)
        code = choose_resident(client, params, people[0][0]).split("code=")[1].split("&")[0]
        auth = (settings.client_id, settings.client_secret.get_secret_value())
        wrong = client.post("/dev-idp/token", auth=auth, data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": settings.redirect_uri,
            "code_verifier": "x" * 48})
        assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
        # the code went with that attempt; and a wrong client secret is refused first
        bad_client = client.post("/dev-idp/token", auth=(settings.client_id, "nope"), data={"code": code})
        assert bad_client.status_code == 401
        elsewhere = client.get("/dev-idp/authorize", params={**{k: v for k, v in params.items() if k != "_url"},
                                                              "redirect_uri": "https://evil.example/cb"})
        assert elsewhere.status_code == 400 and "evil.example" not in elsewhere.headers.get("location", "")


def test_pkce_challenge_is_s256_of_the_verifier() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636, appendix B
    assert dev_idp._challenge_of(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert dev_idp._challenge_of(verifier) == base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _tampering(change: str):  # type: ignore[no-untyped-def]
    real = dev_idp.jwt.encode

    def encode(header: dict, claims: dict, key: Any) -> str:
        claims = dict(claims)
        if change == "nonce":
            claims["nonce"] = "another"
        if change == "audience":
            claims["aud"] = "another-client"
        if change == "issuer":
            claims["iss"] = "https://evil.example"
        if change == "expired":
            claims["exp"] = claims["iat"] - 3600
        if change == "no-nik":
            claims.pop("nik")
        token = real(header, claims, key)
        if change == "signature":
            head, body, signature = token.split(".")
            token = ".".join((head, body, ("A" if signature[0] != "A" else "B") + signature[1:]))
        if change == "claims":  # a NIK swapped in after signing
            head, body, signature = token.split(".")
            import json

            data = json.loads(base64.urlsafe_b64decode(body + "=="))
            data["nik"] = "1471000000000001"
            body = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
            token = ".".join((head, body, signature))
        return token

    return encode


@pytest.mark.parametrize("change", ["signature", "claims", "nonce", "audience", "issuer", "expired", "no-nik"])
def test_a_tampered_id_token_is_refused(browser_client: httpx.Client, people: list[tuple[str, str]],
                                        monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    monkeypatch.setattr(dev_idp, "jwt", type("jwt", (), {"encode": staticmethod(_tampering(change))}))
    refused = sign_in(browser_client, people[2][0])
    assert refused.status_code in (400, 403), refused.text
    assert ("NIK_MISSING" if change == "no-nik" else "SIGNIN_FAILED") in refused.text
    assert "Keluar" not in browser_client.get("/warga/").text


@pytest.mark.parametrize("wanted", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "/warga/../x",
                                    "/warga@evil.example", "javascript:alert(1)", "/survei", "/warga/ajukan?x=1"])
def test_open_redirects_after_sign_in_are_refused(wanted: str) -> None:
    assert safe_next(wanted) == "/warga/"


def test_the_page_asked_for_is_shown_after_sign_in(browser_client: httpx.Client,
                                                   people: list[tuple[str, str]]) -> None:
    first = browser_client.get("/warga/ajukan")
    assert first.status_code == 303 and first.headers["location"] == "/warga/masuk?lanjut=%2Fwarga%2Fajukan"
    done = sign_in(browser_client, people[0][0], "/warga/ajukan")
    assert done.headers["location"] == "/warga/ajukan"
    evil = httpx.Client(base_url=str(browser_client.base_url))
    with evil:
        assert sign_in(evil, people[0][0], "https://evil.example/").headers["location"] == "/warga/"
