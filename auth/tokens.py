"""Bearer token validation: from an ``Authorization`` header to a `Principal`.

    header ─► scheme "Bearer"? ─► three base64url parts, JSON header?
           ─► alg in the explicit allow-list? ─► key for the kid (JWKS refresh if new)
           ─► signature (joserfc.jwt.decode) ─► the shape of iss, aud, sub, exp, nbf, iat
           ─► their values (JWTClaimsRegistry) ─► claim mapping (roles the policy does
              not know dropped) ─► Principal ─► its client (if any) not revoked

No header means the anonymous caller. Any header that does not survive every step
raises `AuthError` with a short reason (a claim of the wrong type included: never a
500); a bad token is never treated as anonymous.
The explicit algorithm list is what stops ``alg: none`` and HS256 signed with the
issuer's public key (algorithm confusion).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from cachetools import LRUCache
from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
    UnsupportedAlgorithmError,
)

from auth.claims import ClaimMapping, map_claims
from auth.errors import AuthError
from auth.jwks import KeySource, has_kid
from auth.principal import ANONYMOUS, Principal

DEFAULT_ALGORITHMS = ("RS256", "ES256")
#: asymmetric algorithms a validator may be configured with; HMAC and "none" never
SUPPORTED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
MAX_TOKEN_LENGTH = 8192
VERIFIED_CACHE_SIZE = 1024  # tokens whose signature check is remembered (LRU)
_FORBIDDEN_HEADERS = ("crit", "b64")  # extensions a plain JWT never needs


#: a token whose signature was verified: its key id, its claims, and the principal they
#: map to once mapped
_Verified = tuple[str | None, dict[str, Any], Principal | None]


class Authenticator(Protocol):
    async def authenticate(self, authorization_header: str | None) -> Principal: ...


class TokenValidator:
    """Validates Bearer JWTs of one issuer and maps them to principals."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        key_source: KeySource,
        algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
        leeway: int = 30,
        claims: ClaimMapping | None = None,
        clock: Callable[[], int] | None = None,
        revoked: Callable[[str], bool] | None = None,
    ) -> None:
        if not issuer or not audience:
            raise ValueError("issuer and audience must be non-empty")
        algorithms = list(algorithms)
        bad = sorted(set(algorithms) - SUPPORTED_ALGORITHMS)
        if not algorithms or bad:
            raise ValueError(
                f"algorithms must be a non-empty list of {sorted(SUPPORTED_ALGORITHMS)}; "
                f"refused: {bad}"
            )
        if not 0 <= leeway <= 300:
            raise ValueError("leeway must be between 0 and 300 seconds")
        self.issuer = issuer
        self.audience = audience
        self.algorithms = algorithms
        self.leeway = leeway
        self.mapping = claims or ClaimMapping()
        self._key_source = key_source
        # whether a client id is revoked: asked on every use of a token that names a
        # client, so it must answer from memory (the hub keeps the revoked ids there)
        self._revoked = revoked
        # token -> (kid, claims, principal) of signatures already verified: a client sends
        # the same token with every request until it expires, and the signature check is
        # the cost (the principal is kept once the claims have been mapped to one)
        self._verified: LRUCache[str, _Verified] = LRUCache(VERIFIED_CACHE_SIZE)
        self._registry = jwt.JWTClaimsRegistry(
            now=clock or (lambda: int(time.time())),
            leeway=leeway,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
        )

    async def authenticate(self, authorization_header: str | None) -> Principal:
        """The caller named by the header: `ANONYMOUS` without one, else a verified token."""
        if authorization_header is None:
            return ANONYMOUS
        return await self.principal(bearer_token(authorization_header))

    async def principal(self, token: str) -> Principal:
        """The principal `token` names, or `AuthError`: `verify`, then the claim mapping,
        which is done once per token (it depends on nothing else)."""
        known = await self._known(token)
        if known is not None and known[2] is not None:
            return self._unrevoked(known[2])
        kid, claims, _ = known or await self._verify_new(token)
        principal = map_claims(claims, self.mapping)
        self._verified[token] = (kid, claims, principal)
        return self._unrevoked(principal)

    def _unrevoked(self, principal: Principal) -> Principal:
        if self._revoked is not None and principal.client_id is not None and self._revoked(principal.client_id):
            raise AuthError("token's client has been revoked")
        return principal

    async def verify(self, token: str) -> dict[str, Any]:
        """The verified claims of `token`, or `AuthError`.

        A token whose signature was verified before skips the signature check, as long
        as its key is still in the issuer's key set; its claims (expiry, audience, ...)
        are checked again every time."""
        known = await self._known(token)
        return dict((known or await self._verify_new(token))[1])

    async def _known(self, token: str) -> _Verified | None:
        """What was remembered of a token verified before whose key is still trusted,
        its claims checked again (expiry, ...); None when it must be verified anew."""
        known = self._verified.get(token)
        if known is None:
            return None
        kid, claims, _ = known
        if not has_kid(await self._key_source.key_set(kid), kid):
            self._verified.pop(token, None)
            return None
        self.check_claims(claims)
        return known

    async def _verify_new(self, token: str) -> _Verified:
        kid, claims = await self._verify_signature(token)
        verified = self._verified[token] = (kid, dict(claims), None)
        return verified

    async def _verify_signature(self, token: str) -> tuple[str | None, dict[str, Any]]:
        header, _ = peek(token)
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise AuthError(f"token algorithm {_short(alg)} is not accepted")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise AuthError("token key id is malformed")
        keys = await self._key_source.key_set(kid)
        if not has_kid(keys, kid):
            raise AuthError("token is signed by an unknown key")
        try:
            claims = jwt.decode(token, keys, algorithms=self.algorithms).claims
        except BadSignatureError as exc:
            raise AuthError("token signature is invalid") from exc
        except InvalidKeyIdError as exc:
            raise AuthError("token is signed by an unknown key") from exc
        except UnsupportedAlgorithmError as exc:
            raise AuthError("token algorithm is not accepted") from exc
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            # wrong key type for the algorithm, bad payload JSON, ...
            raise AuthError("token is malformed or signed with an unsuitable key") from exc
        self.check_claims(claims)
        return kid, claims

    def check_claims(self, claims: dict[str, Any]) -> None:
        check_claim_types(claims)
        try:
            self._registry.validate(claims)
        except ExpiredTokenError as exc:
            raise AuthError("token has expired") from exc
        except MissingClaimError as exc:
            raise AuthError(f"token lacks required claim(s): {exc.claim}") from exc
        except InvalidClaimError as exc:
            raise AuthError(_CLAIM_REASONS.get(exc.claim, f"token claim {exc.claim!r} is invalid")) from exc


class MultiIssuerValidator:
    """Dispatches on the (unverified) ``iss`` claim to the validator of that issuer.

    For a hub that accepts both its own service-account tokens and an external
    identity provider's tokens. The chosen validator verifies everything itself.
    """

    def __init__(self, validators: Iterable[TokenValidator]) -> None:
        self._by_issuer: dict[str, TokenValidator] = {}
        for validator in validators:
            if validator.issuer in self._by_issuer:
                raise ValueError(f"two validators for issuer {validator.issuer!r}")
            self._by_issuer[validator.issuer] = validator
        if not self._by_issuer:
            raise ValueError("at least one validator is required")
        # token -> its issuer's validator, for tokens that authenticated (a token's `iss`
        # never changes, so it is read once; the validator still checks every use)
        self._routes: LRUCache[str, TokenValidator] = LRUCache(VERIFIED_CACHE_SIZE)

    async def authenticate(self, authorization_header: str | None) -> Principal:
        if authorization_header is None:
            return ANONYMOUS
        token = bearer_token(authorization_header)
        validator = self._routes.get(token)
        if validator is not None:
            return await validator.principal(token)
        _, claims = peek(token)
        issuer = claims.get("iss")
        validator = self._by_issuer.get(issuer) if isinstance(issuer, str) else None
        if validator is None:
            raise AuthError("token issuer is not trusted")
        principal = await validator.principal(token)
        self._routes[token] = validator
        return principal


_TIMES = ("exp", "nbf", "iat")
_MAX_TIME = 2**53  # seconds; larger numbers, infinities and NaN are not times


def check_claim_types(claims: dict[str, Any]) -> None:
    """`AuthError` unless the registered claims present have the types RFC 7519 gives
    them: ``iss`` and ``sub`` strings, ``aud`` a string or a list of strings, times
    numbers of a sane size. (Values, and which claims are required, are checked after.)"""
    for name in ("iss", "sub"):
        if name in claims and not isinstance(claims[name], str):
            raise AuthError(f"token claim {name!r} is not a string")
    audience = claims.get("aud")
    if audience is not None and not isinstance(audience, str) and not (
        isinstance(audience, list) and all(isinstance(a, str) for a in audience)
    ):
        raise AuthError("token claim 'aud' is not a string or a list of strings")
    for name in _TIMES:
        value = claims.get(name)
        if name in claims and (
            isinstance(value, bool) or not isinstance(value, int | float) or not abs(value) < _MAX_TIME
        ):  # (NaN fails the comparison too)
            raise AuthError(f"token claim {name!r} is not a number of seconds")


_CLAIM_REASONS = {
    "iss": "token issuer is not trusted",
    "aud": "token is meant for another audience",
    "nbf": "token is not yet valid",
    "iat": "token was issued in the future",
    "exp": "token expiry is malformed",
}


def bearer_token(authorization_header: str) -> str:
    """The token in ``Bearer <token>``, or `AuthError`."""
    scheme, _, token = authorization_header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise AuthError("authorization scheme must be Bearer")
    token = token.strip()
    if not token:
        raise AuthError("bearer token is missing")
    if len(token) > MAX_TOKEN_LENGTH:
        raise AuthError("token is too large")
    return token


def peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a compact JWS, unverified; `AuthError` if malformed."""
    if token.count(".") != 2:
        raise AuthError("token is malformed: expected three dot-separated parts")
    try:
        obj = jws.extract_compact(token.encode("ascii"))
        claims = json.loads(obj.payload or b"")
    except (JoseError, ValueError, TypeError, UnicodeError, RecursionError) as exc:
        raise AuthError("token is malformed: bad base64 or JSON") from exc
    header = obj.headers()
    if not isinstance(claims, dict):
        raise AuthError("token payload is not a JSON object")
    if any(name in header for name in _FORBIDDEN_HEADERS):
        raise AuthError("token header uses unsupported extensions")
    return dict(header), claims


def _short(value: object) -> str:
    return repr(str(value)[:20])
