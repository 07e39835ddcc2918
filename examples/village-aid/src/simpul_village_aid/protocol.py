"""What the hub needs from an aid registry backend (the plug-in's protocol)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from connectors.protocols import Source
from simpul_village_aid.records import EnrolmentRecord


@runtime_checkable
class AidSource(Source, Protocol):
    async def enrolments_by_nik(self, niks: Sequence[str]) -> dict[str, list[EnrolmentRecord]]:
        """Enrolments per recipient NIK, newest first; NIKs with none are absent."""
