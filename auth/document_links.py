"""Short-lived signed download links for the documents of an application.

A link is `/documents/<token>`; the token is a JWT (HS256, its own key, its own `typ`)
binding one document of one application to one principal, the purpose and case it was
issued under, and an expiry a few minutes away:

    {"sub": <subject>, "app": <application number>, "doc": <document id>,
     "purpose": ..., "case": ..., "iat": ..., "exp": ..., "jti": <128 random bits>}

Unguessable (signed, with a random id), expiring, and bound: the download must come
from the same subject with its own bearer token (hub.document_download), so a link
that leaks is worth nothing to anyone else. The claims hold no personal data (the
applicant's NIK is looked up at download time), since the holder can read them.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

ALGORITHM = "HS256"
TOKEN_TYPE = "simpul-document+jwt"
DEFAULT_TTL_SECONDS = 300
MAX_TOKEN_LENGTH = 2048


@dataclass(frozen=True, slots=True)
class DocumentGrant:
    subject: str
    application: str
    document: str
    purpose: str | None
    case: str | None
    expires_at: int  # epoch seconds


class LinkInvalid(Exception):
    """Not a link this hub signed, altered, or for another document."""


class LinkExpired(LinkInvalid):
    pass


class DocumentLinks:
    def __init__(self, key_material: bytes, *, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                       info=b"simpul document link key v1").derive(key_material)
        self._key = OctKey.import_key(derived)
        self.ttl_seconds = ttl_seconds

    def issue(
        self, *, subject: str, application: str, document: str, purpose: str | None, case: str | None,
        now: float | None = None,
    ) -> tuple[str, int]:
        """(token, expiry in epoch seconds)."""
        issued = int(now if now is not None else time.time())
        expires = issued + self.ttl_seconds
        claims = {
            "sub": subject, "app": application, "doc": document, "purpose": purpose, "case": case,
            "iat": issued, "exp": expires, "jti": secrets.token_urlsafe(16),
        }
        return jwt.encode({"alg": ALGORITHM, "typ": TOKEN_TYPE}, claims, self._key, algorithms=[ALGORITHM]), expires

    def verify(self, token: str, *, now: float | None = None) -> DocumentGrant:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise LinkInvalid("malformed link")
        try:
            decoded = jwt.decode(token, self._key, algorithms=[ALGORITHM])
        except (JoseError, ValueError) as exc:
            raise LinkInvalid("not a valid link") from exc
        if decoded.header.get("typ") != TOKEN_TYPE:
            raise LinkInvalid("not a document link")
        claims = decoded.claims
        for name in ("sub", "app", "doc"):
            if not isinstance(claims.get(name), str) or not claims[name]:
                raise LinkInvalid("not a document link")
        expires = claims.get("exp")
        if not isinstance(expires, int) or isinstance(expires, bool):
            raise LinkInvalid("not a document link")
        if expires <= int(now if now is not None else time.time()):
            raise LinkExpired("the link has expired")
        purpose, case = claims.get("purpose"), claims.get("case")
        return DocumentGrant(
            subject=claims["sub"], application=claims["app"], document=claims["doc"],
            purpose=purpose if isinstance(purpose, str) else None,
            case=case if isinstance(case, str) else None,
            expires_at=expires,
        )


__all__ = ["DEFAULT_TTL_SECONDS", "DocumentGrant", "DocumentLinks", "LinkExpired", "LinkInvalid"]
