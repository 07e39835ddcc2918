"""What each permit type asks for, read from the licensing source and kept a minute:
the citizen page and `PermitType.requirements` ask often, the rules change rarely, and
the source stays the authority (it checks every upload again)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from connectors.protocols import ApplicationIntake
from connectors.records import PermitRequirement

TTL_SECONDS = 60.0


@dataclass(slots=True)
class RequirementCatalogue:
    ttl_seconds: float = TTL_SECONDS
    _value: dict[str, list[PermitRequirement]] | None = None
    _read_at: float = 0.0
    _lock: asyncio.Lock | None = field(default=None, repr=False)

    async def of(self, source: ApplicationIntake) -> dict[str, list[PermitRequirement]]:
        """Permit type code -> requirements (one source call per minute at most)."""
        if self._value is not None and time.monotonic() - self._read_at < self.ttl_seconds:
            return self._value
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # concurrent requests share one call
            if self._value is None or time.monotonic() - self._read_at >= self.ttl_seconds:
                self._value = await source.requirements()
                self._read_at = time.monotonic()
            return self._value

    async def for_type(self, source: ApplicationIntake, permit_type: str) -> list[PermitRequirement] | None:
        """None when the source knows no such permit type."""
        return (await self.of(source)).get(permit_type)
