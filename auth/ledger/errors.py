"""The ledger's errors; their place in the auth package's tree is drawn in auth.errors.

`append` and `prune` raise only `LedgerUnavailable` (or its subclass): any failure of
the store is translated at one boundary and re-raised with ``from exc``, so that the
schema layer needs a single ``except LedgerUnavailable`` to fail closed. The message is
safe to log; the GraphQL layer masks `INTERNAL` behind a request id.
"""

from __future__ import annotations

from auth.errors import AuthPackageError


class LedgerError(AuthPackageError):
    code = "INTERNAL"
    #: which failure, for logs and the operator (not shown to clients)
    reason = "LEDGER_ERROR"


class LedgerUnavailable(LedgerError):
    reason = "LEDGER_UNAVAILABLE"


class InvalidLedgerDraft(LedgerUnavailable):
    reason = "LEDGER_INVALID_ENTRY"


class InvalidLedgerQuery(LedgerError):
    code = "BAD_USER_INPUT"
    reason = "LEDGER_INVALID_QUERY"
