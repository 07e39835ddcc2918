"""The identity part of the hub's error tree.

    AuthError                      code UNAUTHENTICATED, HTTP 401
     └── KeysUnavailable           the issuer's signing keys could not be fetched

An `AuthError` means "we do not know who you are": the token is missing a part, is
signed by a key we do not trust, has expired, is meant for someone else, and so on.
It is never answered by falling back to the anonymous caller. The `reason` is short
and safe to show to the client (it never echoes the token); `get_headers()` gives the
RFC 6750 ``WWW-Authenticate`` challenge for an HTTP 401 answer.
"""

from __future__ import annotations


class AuthError(Exception):
    code = "UNAUTHENTICATED"
    status_code = 401
    #: the RFC 6750 error code for the WWW-Authenticate challenge
    error = "invalid_token"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def get_headers(self) -> dict[str, str]:
        description = self.reason.replace("\\", "").replace('"', "'")
        return {
            "WWW-Authenticate": (
                f'Bearer error="{self.error}", error_description="{description}"'
            )
        }


class KeysUnavailable(AuthError):
    """The token may be fine, but the keys to check it could not be fetched."""
