"""``POST /oauth/token``: the OAuth2 client-credentials grant for service accounts.

    request ─► form body (urlencoded, small, no repeated parameters)
            ─► client id from HTTP Basic or the form ─► client record (async, SQL)
            ─► authlib's synchronous flow, in a worker thread:
               client authentication (client_secret_basic, client_secret_post),
               grant type, scope ⊆ the client's scopes, RFC 9068 JWT access token
            ─► JSON answer; errors as RFC 6749 §5.2 JSON

Authlib has no Starlette integration and its server API is synchronous, so the client
record is fetched first and handed to a per-request `AuthorizationServer`. An optional
`ClientAuthGuard` is asked before the client record is read and the secret hashed
(scrypt is CPU work an attacker must not be able to order at will), and told of every
failed client authentication. The token
is signed by the development issuer (the hub is the issuer of its service accounts):
``typ`` at+jwt, ``aud`` the hub's audience, ``sub`` and ``client_id`` the client,
``roles``, ``scope``, ``purpose``, a short ``exp`` from the client record.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    OAuth2Payload,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
)
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.util import extract_basic_authorization, list_to_scope, scope_to_list
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from auth.clients import ServiceClient, get_client, verify_secret
from auth.issuer import DevelopmentIssuer

MAX_BODY_BYTES = 8192
MAX_CLIENT_ID = 64
AUTH_METHODS = ("client_secret_basic", "client_secret_post")
_FORM = "application/x-www-form-urlencoded"
# a well-formed hash that matches no secret: unknown clients cost as much as known ones
_DECOY_HASH = (
    "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
)

_UNAVAILABLE = {
    "error": "temporarily_unavailable",
    "error_description": "the client store cannot be reached; try again shortly",
}
logger = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]


class ClientAuthGuard(Protocol):
    """Limits on client authentication (the hub counts failures per client id and address)."""

    async def admit(self, request: Request, client_id: str | None) -> Response | None:
        """None to go on, else the refusal to answer (before any secret is checked)."""
        ...

    async def failed(self, request: Request, client_id: str | None) -> None:
        """The request's client authentication failed."""
        ...


def token_endpoint(
    *,
    issuer: DevelopmentIssuer,
    engine: AsyncEngine,
    require_https: bool = True,
    guard: ClientAuthGuard | None = None,
) -> Endpoint:
    """A Starlette endpoint for ``Route("/oauth/token", ..., methods=["POST"])``.

    With `require_https` (the default) plain-HTTP requests are refused, except from
    loopback addresses (authlib's rule); turn it off only behind a TLS-terminating
    proxy that does not forward the scheme, or in tests.
    """
    generator = _AccessTokenGenerator(issuer)

    async def endpoint(request: Request) -> Response:
        uri = str(request.url if require_https else request.url.replace(scheme="https"))
        try:
            form = await _read_form(request)
            client_id = _claimed_client_id(request.headers, form)
            oauth_request = _TokenRequest(  # authlib refuses an insecure transport here
                method=request.method, uri=uri, headers=request.headers, form=form
            )
        except OAuth2Error as error:
            return _respond(*error())
        if client_id is not None and len(client_id) > MAX_CLIENT_ID:
            client_id = None  # no such client; counted by address only
        if guard is not None:
            refusal = await guard.admit(request, client_id)
            if refusal is not None:
                return refusal
        client = None
        if client_id is not None:
            try:
                async with engine.connect() as conn:
                    record = await get_client(conn, client_id)
            except SQLAlchemyError:
                logger.exception("client store unavailable")
                return _respond(503, _UNAVAILABLE, [("Retry-After", "5")])
            if record is not None and not record.revoked:
                client = _OAuthClient(record)
        server = _ClientCredentialsServer(client, generator)
        # scrypt and signing are CPU work: keep them off the event loop
        status, body, headers = await asyncio.to_thread(server.respond, oauth_request)
        if guard is not None and status == 401:  # client authentication failed
            await guard.failed(request, client_id)
        return _respond(status, body, headers)

    return endpoint


def jwks_endpoint(*, issuer: DevelopmentIssuer) -> Endpoint:
    """A Starlette endpoint for ``/.well-known/jwks.json``."""

    async def endpoint(request: Request) -> Response:
        return JSONResponse(issuer.jwks(), headers={"Cache-Control": "public, max-age=300"})

    return endpoint


# -- the synchronous authlib side ----------------------------------------------------


class _OAuthClient(ClientMixin):
    def __init__(self, record: ServiceClient) -> None:
        self.record = record

    def get_client_id(self) -> str:
        return self.record.client_id

    def check_client_secret(self, client_secret: str) -> bool:
        return self.record.check_secret(str(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in AUTH_METHODS

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"

    def get_allowed_scope(self, scope: str | None) -> str:
        # the grant has checked that a requested scope is a subset of the client's
        requested = scope_to_list(scope) if scope else sorted(self.record.scopes)
        return list_to_scope(sorted(set(requested))) or ""


class _Grant(ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)

    def validate_requested_scope(self) -> None:
        requested = set(scope_to_list(self.request.payload.scope) or [])
        allowed = self.request.client.record.scopes
        if not requested <= allowed:
            raise InvalidScopeError(
                f"scope not granted to this client: {' '.join(sorted(requested - allowed))}"
            )


class _AccessTokenGenerator(JWTBearerTokenGenerator):
    """RFC 9068 tokens signed by the development issuer's current key."""

    def __init__(self, issuer: DevelopmentIssuer) -> None:
        super().__init__(
            issuer.issuer,
            alg=issuer.algorithm,
            expires_generator=lambda client, grant_type: client.record.token_lifetime,
        )
        self._issuer = issuer

    def get_jwks(self) -> Any:
        return self._issuer.signing_key_set()

    def get_audiences(self, client: Any, user: Any, scope: Any) -> str:
        return self._issuer.audience

    def get_extra_claims(self, client: Any, grant_type: str, user: Any, scope: Any) -> dict[str, Any]:
        record: ServiceClient = client.record
        claims: dict[str, Any] = {"roles": sorted(record.roles)}
        if record.purpose is not None:
            claims["purpose"] = record.purpose
        return claims


class _ClientCredentialsServer(AuthorizationServer):
    """One per request: it knows the one client record fetched for that request."""

    def __init__(self, client: _OAuthClient | None, generator: _AccessTokenGenerator) -> None:
        super().__init__()
        self._client = client
        self.register_grant(_Grant)
        self.register_token_generator("default", generator)

    def respond(self, request: _TokenRequest) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        return self.create_token_response(request)  # type: ignore[no-any-return]

    def query_client(self, client_id: str) -> _OAuthClient | None:
        if self._client is not None and self._client.get_client_id() == client_id:
            return self._client
        verify_secret("", _DECOY_HASH)  # unknown or revoked: spend the same time
        return None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Access tokens are self-contained JWTs: nothing to store."""

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No signal bus: nothing listens."""

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        return status, body, headers

    def handle_error_response(
        self, request: OAuth2Request, error: OAuth2Error
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        if isinstance(error, InvalidClientError):
            # one answer for unknown, revoked and wrong-secret clients (RFC 6749 §5.2)
            error.status_code = 401
            error.description = "client authentication failed"
        return self.handle_response(*error(self.get_error_uri(request, error)))


class _FormPayload(OAuth2Payload):
    def __init__(self, form: Mapping[str, str]) -> None:
        self._form = dict(form)

    @property
    def data(self) -> dict[str, str]:
        return self._form

    @property
    def datalist(self) -> dict[str, list[str]]:
        return {key: [value] for key, value in self._form.items()}


class _TokenRequest(OAuth2Request):
    def __init__(self, *, method: str, uri: str, headers: Any, form: Mapping[str, str]) -> None:
        super().__init__(method, uri, headers=headers)  # refuses an insecure transport
        self._request_form = dict(form)
        self.payload = _FormPayload(form)

    @property
    def form(self) -> dict[str, str]:
        return self._request_form

    @property
    def args(self) -> dict[str, str]:
        return {}


# -- the asynchronous Starlette side -------------------------------------------------


async def _read_form(request: Request) -> dict[str, str]:
    if request.method != "POST":
        raise InvalidRequestError("the token endpoint accepts POST only")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != _FORM:
        raise InvalidRequestError(f"the body must be {_FORM}")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            raise InvalidRequestError("the request body is too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequestError("the body is not valid form data") from exc
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            raise InvalidRequestError(f"parameter {key!r} is repeated")
        form[key] = value
    if not form.get("grant_type"):
        raise InvalidRequestError("missing 'grant_type'")
    return form


def _claimed_client_id(headers: Mapping[str, str], form: Mapping[str, str]) -> str | None:
    try:
        basic_id, _ = extract_basic_authorization(headers)
    except (ValueError, TypeError) as exc:  # e.g. Basic credentials that are not UTF-8
        raise InvalidClientError(
            status_code=401, description="malformed HTTP Basic credentials"
        ) from exc
    if basic_id and form.get("client_secret"):
        raise InvalidRequestError("use one client authentication method, not two")
    if basic_id and form.get("client_id") and form["client_id"] != basic_id:
        raise InvalidRequestError("client_id in the body differs from HTTP Basic")
    return basic_id or form.get("client_id") or None


def _respond(status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
    return JSONResponse(body, status_code=status, headers=dict(headers))
