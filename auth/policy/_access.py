"""How a field is shown: in full, masked with a named mask, or not at all."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from auth.masks import apply_mask, disclosure_rank


class AccessKind(enum.IntEnum):
    # Ordered by permissiveness: the larger wins when roles are combined.
    DENIED = 0
    MASKED = 1
    FULL = 2


@dataclass(frozen=True, slots=True)
class Access:
    kind: AccessKind
    mask: str | None = None  # the mask name when kind is MASKED

    FULL: ClassVar[Access]
    DENIED: ClassVar[Access]

    @classmethod
    def masked(cls, mask: str) -> Access:
        return cls(AccessKind.MASKED, mask)

    @property
    def visible(self) -> bool:
        return self.kind is not AccessKind.DENIED

    def apply(self, value: Any) -> Any:
        """The value as this access shows it (None when denied)."""
        if self.kind is AccessKind.FULL:
            return value
        if self.kind is AccessKind.MASKED and self.mask is not None:
            return apply_mask(self.mask, value)
        return None

    def __str__(self) -> str:
        return f"MASKED({self.mask})" if self.kind is AccessKind.MASKED else self.kind.name


Access.FULL = Access(AccessKind.FULL)
Access.DENIED = Access(AccessKind.DENIED)


def _rank(access: Access) -> tuple[int, int, str]:
    return (int(access.kind), disclosure_rank(access.mask or ""), access.mask or "")


def most_permissive(accesses: Iterable[Access]) -> Access:
    """FULL beats MASKED beats DENIED; between two masks the more revealing one wins
    (per `auth.masks.MASK_DISCLOSURE`, ties broken by name so the result is stable)."""
    return max(accesses, key=_rank, default=Access.DENIED)
