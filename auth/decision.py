"""The one `Decision` type every policy check returns.

A decision is a plain, frozen value: whether something is allowed, a short reason
(for logs, `FORBIDDEN` errors and tests; never personal data), and, for a row that is
allowed only in part, the narrowed set of fields that may be shown for it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str
    # For an allowed row: None when every field the principal may see on the type is
    # shown, else exactly the fields shown for this row (e.g. a family member's name).
    fields: frozenset[str] | None = None

    @classmethod
    def allow(cls, reason: str, fields: frozenset[str] | None = None) -> Decision:
        return cls(True, reason, fields)

    @classmethod
    def deny(cls, reason: str) -> Decision:
        return cls(False, reason, None)

    def __bool__(self) -> bool:
        return self.allowed
