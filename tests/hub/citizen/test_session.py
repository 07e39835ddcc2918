"""The citizen session cookie's flags, the form token, and the development identity
provider's refusal outside development mode on a loopback address."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from hub.citizen.dev_idp import demo_citizen_settings
from hub.citizen.settings import DevIdpRefused, check_allowed
from hub.citizen.session import csrf_token, csrf_valid, session_middleware
from hub.citizen.settings import CitizenPageSettings


def _app(settings: CitizenPageSettings, data_dir: Path) -> Starlette:
    async def token(request: Request) -> PlainTextResponse:
        return PlainTextResponse(csrf_token(request))

    async def check(request: Request) -> PlainTextResponse:
        form = await request.form()
        return PlainTextResponse("ok" if csrf_valid(request, form.get("csrf")) else "no")

    return Starlette(routes=[Route("/warga/t", token), Route("/warga/c", check, methods=["POST"])],
                     middleware=[session_middleware(settings, data_dir)])


@pytest.mark.parametrize(("base", "secure"), [("http://127.0.0.1:9", False), ("https://warga.example.go.id", True)])
def test_the_cookie_is_httponly_lax_scoped_and_secure_over_https(tmp_path: Path, base: str, secure: bool) -> None:
    settings = demo_citizen_settings(base)
    with TestClient(_app(settings, tmp_path), base_url=base) as client:
        answer = client.get("/warga/t")
        cookie = answer.headers["set-cookie"].lower()
        assert cookie.startswith("simpul_warga=") and "httponly" in cookie and "samesite=lax" in cookie
        assert "path=/warga" in cookie and f"max-age={settings.session_seconds}" in cookie
        assert ("; secure" in cookie) is secure
        assert client.post("/warga/c", data={"csrf": answer.text}).text == "ok"
        assert client.post("/warga/c", data={"csrf": answer.text + "x"}).text == "no"
        assert client.post("/warga/c", data={}).text == "no"
    assert (tmp_path / "citizen-session-secret").stat().st_mode & 0o077 == 0  # the secret: the hub user's only


def test_a_short_session_secret_and_an_incomplete_provider_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        CitizenPageSettings(session_secret="short")
    with pytest.raises(ValueError, match="metadata_url"):
        CitizenPageSettings(enabled=True, client_id="x", redirect_uri="https://h/warga/masuk/selesai")


@pytest.mark.parametrize(("development", "host"), [(False, "127.0.0.1"), (True, "0.0.0.0"), (True, "10.0.0.5"),
                                                   (False, "0.0.0.0")])
def test_the_development_provider_is_refused_outside_development_on_loopback(development: bool, host: str) -> None:
    with pytest.raises(DevIdpRefused, match="development"):
        check_allowed(demo_citizen_settings("http://127.0.0.1:1"), development=development, host=host)
    check_allowed(CitizenPageSettings(), development=development, host=host)  # not asked for: nothing to refuse


def test_the_development_provider_is_allowed_in_development_on_loopback() -> None:
    for host in ("127.0.0.1", "::1", "localhost"):
        check_allowed(demo_citizen_settings("http://127.0.0.1:1"), development=True, host=host)


def test_settings_with_the_development_provider_on_a_real_hub_do_not_load(tmp_path: Path) -> None:
    from hub.settings import ConfigError, load_settings

    config = tmp_path / "hub.toml"
    config.write_text('[citizen]\nenabled = true\ndevelopment_idp = true\nclient_id = "c"\n'
                      'metadata_url = "http://127.0.0.1:1/dev-idp/.well-known/openid-configuration"\n'
                      'redirect_uri = "http://127.0.0.1:1/warga/masuk/selesai"\n')
    with pytest.raises(ConfigError, match="development_idp"):
        load_settings(config, data_dir=tmp_path)
