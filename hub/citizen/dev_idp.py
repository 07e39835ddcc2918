"""A DEVELOPMENT-ONLY OpenID Connect provider at `/dev-idp`, for `hub demo`: it signs in
any sample resident the caller picks (or whose NIK is typed), with no password, so the
citizen page's whole path runs on one machine. It issues real ID tokens (RS256, joserfc,
a key made at start and published as a JWKS), takes the authorization code flow with
PKCE (S256 only) and checks the registered client, its secret, its redirect URI, the
one-time code and the verifier, as a real provider does.

Refused (`check_allowed`: the settings do not load) unless the issuer is in development
mode and the hub listens on a loopback address: never part of a deployed hub."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment as Templates
from jinja2 import PackageLoader, select_autoescape
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from connectors.records import CitizenFilter, PageRequest
from hub.citizen.settings import CitizenPageSettings
from schema.context import Environment

PATH = "/dev-idp"
METADATA = "/.well-known/openid-configuration"
CLIENT_ID = "simpul-warga-dev"
CODE_SECONDS = 120
TOKEN_SECONDS = 600
SAMPLE_RESIDENTS = 8


def demo_citizen_settings(hub_url: str) -> CitizenPageSettings:
    """The citizen page of a demo hub at `hub_url`, signed in by this provider."""
    return CitizenPageSettings(
        enabled=True, development_idp=True, client_id=CLIENT_ID, client_secret=secrets.token_urlsafe(24),
        metadata_url=f"{hub_url}{PATH}{METADATA}", redirect_uri=f"{hub_url}/warga/masuk/selesai",
    )


@dataclass(frozen=True, slots=True)
class _Grant:
    nik: str
    name: str
    client_id: str
    redirect_uri: str
    nonce: str | None
    challenge: str
    expires: float


def _challenge_of(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class DevelopmentIdp:
    def __init__(self, settings: CitizenPageSettings, env: Environment) -> None:
        assert settings.metadata_url and settings.client_id and settings.redirect_uri
        self.issuer = settings.metadata_url.removesuffix(METADATA)
        self.client_id = settings.client_id
        self.secret = settings.client_secret.get_secret_value() if settings.client_secret else None
        self.redirect_uri = settings.redirect_uri
        self.env = env
        self.key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8), "use": "sig", "alg": "RS256"})
        self.keys = KeySet([self.key])
        self.grants: dict[str, _Grant] = {}
        self.templates = Templates(loader=PackageLoader("hub.citizen", "templates"), autoescape=select_autoescape())

    def routes(self) -> Mount:
        return Mount(PATH, routes=[
            Route(METADATA, self.metadata),
            Route("/jwks.json", self.jwks),
            Route("/authorize", self.authorize, methods=["GET", "POST"]),
            Route("/token", self.token, methods=["POST"]),
        ])

    async def metadata(self, request: Request) -> Response:
        return JSONResponse({
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks.json",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "claims_supported": ["sub", "name", "nik"],
        })

    async def jwks(self, request: Request) -> Response:
        return JSONResponse(self.keys.as_dict(private=False))

    def _refuse(self, message: str, status: int = 400) -> HTMLResponse:
        page = self.templates.get_template("dev_idp.html").render(error=message, residents=[], params={})
        return HTMLResponse(page, status_code=status)

    async def _residents(self) -> list[tuple[str, str]]:
        page = await self.env.sources.population.list_citizens(CitizenFilter(), PageRequest(first=SAMPLE_RESIDENTS))
        return [(c.nik, c.full_name) for c in page.items]

    async def authorize(self, request: Request) -> Response:
        params = dict(request.query_params) if request.method == "GET" else {
            k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        if params.get("client_id") != self.client_id or params.get("redirect_uri") != self.redirect_uri:
            return self._refuse("Unknown client or redirect_uri (development IdP)")
        if params.get("response_type") != "code" or params.get("code_challenge_method") != "S256" \
                or not params.get("code_challenge") or not params.get("state"):
            return self._refuse("Needs response_type=code, state and a PKCE S256 code_challenge")
        if request.method == "GET":
            page = self.templates.get_template("dev_idp.html").render(
                error=None, residents=await self._residents(), params=params)
            return HTMLResponse(page, headers={"Cache-Control": "no-store"})
        nik = (params.get("nik") or "").strip()
        found = None
        if nik.isdigit() and len(nik) == 16:
            found = (await self.env.sources.population.citizens_by_nik([nik])).get(nik)
        if found is None:
            return self._refuse("No sample resident with this NIK")
        code = secrets.token_urlsafe(32)
        self._forget_expired()
        self.grants[code] = _Grant(nik, found.full_name, self.client_id, self.redirect_uri, params.get("nonce"),
                                   params["code_challenge"], time.time() + CODE_SECONDS)
        query = urlencode({"code": code, "state": params["state"]})
        return RedirectResponse(f"{self.redirect_uri}?{query}", status_code=303)

    def _forget_expired(self) -> None:
        now = time.time()
        for code in [c for c, g in self.grants.items() if g.expires < now]:
            del self.grants[code]

    def _client_authenticated(self, request: Request, form: dict[str, str]) -> bool:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return False
        if client_id != self.client_id:
            return False
        return self.secret is None or (secret is not None and secrets.compare_digest(secret, self.secret))

    async def token(self, request: Request) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        if not self._client_authenticated(request, form):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self.grants.pop(form.get("code") or "", None)  # one use only
        if form.get("grant_type") != "authorization_code" or grant is None or grant.expires < time.time():
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        verifier = form.get("code_verifier") or ""
        if form.get("redirect_uri") != grant.redirect_uri or not secrets.compare_digest(
                _challenge_of(verifier), grant.challenge):
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE or redirect_uri"},
                                status_code=400)
        now = int(time.time())
        claims: dict[str, Any] = {"iss": self.issuer, "sub": f"dev-{grant.nik}", "aud": grant.client_id,
                                  "iat": now, "exp": now + TOKEN_SECONDS, "nik": grant.nik, "name": grant.name,
                                  "auth_time": now}
        if grant.nonce:
            claims["nonce"] = grant.nonce
        id_token = jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, self.key)
        return JSONResponse({"access_token": secrets.token_urlsafe(32), "token_type": "Bearer",
                             "expires_in": TOKEN_SECONDS, "id_token": id_token},
                            headers={"Cache-Control": "no-store"})
