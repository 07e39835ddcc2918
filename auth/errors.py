"""The auth package's error tree, drawn whole here (the ledger and policy errors live
beside their code and derive from `AuthPackageError`):

    AuthPackageError                    every auth error: `code`, safe `message`, `details`
     ├── AuthError                      UNAUTHENTICATED       we do not know who you are
     │    ├── NoKnownRole               FORBIDDEN             we know who you are, but the
     │    │                                                   token grants no role the
     │    │                                                   policy knows
     │    └── KeysUnavailable           IDENTITY_UNAVAILABLE  the issuer's signing keys could
     │                                                        not be fetched: the token may
     │                                                        be fine, try again
     │                                                        (details: `retryAfter`)
     ├── PolicyError                    POLICY_INVALID        a policy or purpose file that
     │                                                        cannot be used (start-up only;
     │                                                        auth.policy._errors)
     └── LedgerError                    INTERNAL              auth.ledger.errors
          ├── LedgerUnavailable         INTERNAL              nothing was written; the caller
          │    │                                              must send no personal data
          │    └── InvalidLedgerDraft   INTERNAL              a malformed draft (a programming
          │                                                   error, still fail closed)
          └── InvalidLedgerQuery        BAD_USER_INPUT        a reader was given bad arguments

`message` is safe to show to the client and `details` are the extensions beside `code`;
the schema turns these into GraphQL errors (schema.errors) and the hub into HTTP JSON
answers with their status (hub.json_errors), each in one place. `INTERNAL` is never
shown: the client sees only a request id.

An `AuthError` means "we do not know who you are": the token is missing a part, is
signed by a key we do not trust, has expired, is meant for someone else, has a claim
of the wrong shape, and so on. It is never answered by falling back to the anonymous
caller. The `reason` is short and safe to show to the client (it never echoes the
token); `get_headers()` gives the headers of the HTTP answer (the RFC 6750
``WWW-Authenticate`` challenge, or ``Retry-After`` during an outage).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class AuthPackageError(Exception):
    """The base of the auth package's errors (see the tree above)."""

    code = "INTERNAL"

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})


class AuthError(AuthPackageError):
    code = "UNAUTHENTICATED"
    #: what the message starts with
    summary = "Not authenticated"
    #: the RFC 6750 error code for the WWW-Authenticate challenge
    error = "invalid_token"

    def __init__(self, reason: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"{self.summary}: {reason}", details=details)
        self.args = (reason,)
        self.reason = reason

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
    summary = "Not authorized"
    error = "insufficient_scope"


class KeysUnavailable(AuthError):
    """The token may be fine, but the keys to check it could not be fetched."""

    code = "IDENTITY_UNAVAILABLE"
    summary = "Identity provider unavailable"

    def __init__(self, reason: str, *, retry_after: int = 30) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(reason, details={"retryAfter": self.retry_after})

    def get_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
