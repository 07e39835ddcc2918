"""The ledger's part of the hub's error tree.

    LedgerError                    code INTERNAL
     ├── LedgerUnavailable         nothing was written; the caller must send no personal data
     │    └── InvalidLedgerDraft   a draft was malformed (a programming error, still fail closed)
     └── InvalidLedgerQuery        a reader was given bad arguments; code BAD_USER_INPUT

`append` and `prune` raise only `LedgerUnavailable` (or its subclass): any failure of
the store is translated at one boundary and re-raised with ``from exc``, so that the
schema layer needs a single ``except LedgerUnavailable`` to fail closed. The message is
safe to log; the GraphQL layer masks it behind ``INTERNAL`` and a request id.
"""

from __future__ import annotations


class LedgerError(Exception):
    code = "INTERNAL"
    reason = "LEDGER_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LedgerUnavailable(LedgerError):
    reason = "LEDGER_UNAVAILABLE"


class InvalidLedgerDraft(LedgerUnavailable):
    reason = "LEDGER_INVALID_ENTRY"


class InvalidLedgerQuery(LedgerError):
    code = "BAD_USER_INPUT"
    reason = "LEDGER_INVALID_QUERY"
