"""Signing a resident in: OpenID Connect authorization code with PKCE (S256) against the
configured identity provider, by Authlib's Starlette client.

    GET /warga/masuk[?lanjut=/warga/...]   state, nonce and the PKCE verifier kept in
                                           the session; off to the provider
    GET /warga/masuk/selesai               the provider's answer: state checked, the
                                           code exchanged with the verifier, the ID
                                           token's signature (the provider's JWKS),
                                           issuer, audience, expiry and nonce checked;
                                           its NIK claim names the resident
    POST /warga/keluar                     signs out (form token checked by the page):
                                           the session ends in the hub store

`lanjut` (where to go after signing in) is only ever a path of this page: anything else
(another site, `//host`, a scheme) is replaced by `/warga`."""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx
from authlib.integrations.starlette_client import OAuth, OAuthError
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hub.citizen.session import sign_in
from hub.citizen.session_store import MAX_SUBJECT
from hub.citizen.settings import CitizenPageSettings

log = logging.getLogger("simpul.citizen")

CLIENT = "warga"
HOME = "/warga/"
NEXT_KEY = "lanjut"
_OWN_PATH = re.compile(r"/warga(/[A-Za-z0-9_\-]+)*/?")
NIK = re.compile(r"\d{16}")


class SignInFailed(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def safe_next(value: object) -> str:
    """A path of the citizen page to go to after signing in, or HOME."""
    return value if isinstance(value, str) and _OWN_PATH.fullmatch(value) else HOME


def oidc_client(settings: CitizenPageSettings) -> Any:
    oauth = OAuth()
    secret = settings.client_secret.get_secret_value() if settings.client_secret else None
    return oauth.register(
        CLIENT,
        client_id=settings.client_id,
        client_secret=secret,
        server_metadata_url=settings.metadata_url,
        client_kwargs={
            "scope": settings.scope,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_basic" if secret else "none",
            "timeout": 10.0,
        },
    )


class SignIn:
    def __init__(self, settings: CitizenPageSettings) -> None:
        self.settings = settings
        self.client = oidc_client(settings)

    async def start(self, request: Request) -> Response:
        next_path = safe_next(request.query_params.get(NEXT_KEY))
        try:
            response: Response = await self.client.authorize_redirect(request, self.settings.redirect_uri)
        except (httpx.HTTPError, ValueError, KeyError, RuntimeError) as exc:
            log.warning("citizen sign-in: the identity provider's metadata could not be read: %s", exc)
            raise SignInFailed("IDP_UNAVAILABLE", "Layanan masuk sedang tidak dapat dihubungi. Coba lagi "
                               "beberapa saat lagi.", 503) from exc
        request.session[NEXT_KEY] = next_path
        return response

    async def finish(self, request: Request) -> Response:
        next_path = safe_next(request.session.get(NEXT_KEY))
        issuer = (await self._metadata()).get("issuer")
        try:
            token = await self.client.authorize_access_token(
                request, claims_options={"iss": {"essential": True, "values": [issuer]}}, leeway=30)
        except OAuthError as exc:
            log.info("citizen sign-in refused: %s", exc.error)
            raise SignInFailed("SIGNIN_FAILED", "Proses masuk tidak dapat diselesaikan (sesi kedaluwarsa atau "
                               "jawaban tidak sah). Silakan masuk lagi.") from exc
        except httpx.HTTPError as exc:
            log.warning("citizen sign-in: the identity provider did not answer: %s", exc)
            raise SignInFailed("IDP_UNAVAILABLE", "Layanan masuk sedang tidak dapat dihubungi. Coba lagi "
                               "beberapa saat lagi.", 503) from exc
        except Exception as exc:  # a token that is not a valid JWT, a bad signature, a claim that fails
            log.info("citizen sign-in: the ID token was refused: %s", type(exc).__name__)
            raise SignInFailed("SIGNIN_FAILED", "Tanda pengenal dari layanan masuk tidak sah. Silakan masuk "
                               "lagi.") from exc
        claims = token.get("userinfo")
        if not claims:
            raise SignInFailed("SIGNIN_FAILED", "Layanan masuk tidak mengirim tanda pengenal (ID token).")
        nik, subject = claims.get(self.settings.nik_claim), claims.get("sub")
        if not isinstance(nik, str) or not NIK.fullmatch(nik) or not isinstance(subject, str) or not subject \
                or len(subject) > MAX_SUBJECT:
            raise SignInFailed("NIK_MISSING", "Akun ini tidak memuat NIK yang terverifikasi; halaman warga "
                               "memerlukan NIK.", 403)
        name = claims.get("name")
        try:
            await sign_in(request, nik=nik, subject=subject, name=name if isinstance(name, str) else None)
        except SQLAlchemyError as exc:
            log.warning("citizen sign-in: the session could not be stored", exc_info=True)
            raise SignInFailed("SESSION_UNAVAILABLE", "Layanan sedang tidak tersedia. Coba lagi beberapa saat "
                               "lagi.", 503) from exc
        return RedirectResponse(next_path, status_code=303)

    async def _metadata(self) -> dict[str, Any]:
        try:
            return await self.client.load_server_metadata()  # type: ignore[no-any-return]
        except (httpx.HTTPError, ValueError) as exc:
            raise SignInFailed("IDP_UNAVAILABLE", "Layanan masuk sedang tidak dapat dihubungi. Coba lagi "
                               "beberapa saat lagi.", 503) from exc
