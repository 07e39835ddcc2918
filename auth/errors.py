"""The identity part of the hub's error tree.

    AuthError              401 UNAUTHENTICATED     we do not know who you are
     ├── NoKnownRole       403 FORBIDDEN           we know who you are, but the token
     │                                             grants no role the policy knows
     └── KeysUnavailable   503 IDENTITY_UNAVAILABLE  the issuer's signing keys could not
                                                   be fetched: the token may be fine,
                                                   try again (`retry_after` seconds)

An `AuthError` means "we do not know who you are": the token is missing a part, is
signed by a key we do not trust, has expired, is meant for someone else, has a claim
of the wrong shape, and so on. It is never answered by falling back to the anonymous
caller. The `reason` is short and safe to show to the client (it never echoes the
token); `get_headers()` gives the headers of the HTTP answer (the RFC 6750
``WWW-Authenticate`` challenge, or ``Retry-After`` during an outage).
"""

from __future__ import annotations


class AuthError(Exception):
    code = "UNAUTHENTICATED"
    status_code = 401
    #: what the HTTP error message starts with
    summary = "Not authenticated"
    #: the RFC 6750 error code for the WWW-Authenticate challenge
    error = "invalid_token"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def message(self) -> str:
        return f"{self.summary}: {self.reason}"

    def get_headers(self) -> dict[str, str]:
        description = self.reason.replace("\\", "").replace('"', "'")
        return {
            "WWW-Authenticate": (
                f'Bearer error="{self.error}", error_description="{description}"'
            )
        }


class NoKnownRole(AuthError):
    """A valid token whose roles are all unknown to the policy (an identity provider's
    own roles such as ``offline_access`` are dropped): refused, never anonymous, so a
    misconfigured identity provider shows up at once instead of as a silent downgrade."""

    code = "FORBIDDEN"
    status_code = 403
    summary = "Not authorized"
    error = "insufficient_scope"


class KeysUnavailable(AuthError):
    """The token may be fine, but the keys to check it could not be fetched."""

    code = "IDENTITY_UNAVAILABLE"
    status_code = 503
    summary = "Identity provider unavailable"

    def __init__(self, reason: str, *, retry_after: int = 30) -> None:
        super().__init__(reason)
        self.retry_after = max(1, retry_after)

    def get_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
