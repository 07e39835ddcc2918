"""Sample complaint service (LAPOR!-style REST API) with its own database."""

from __future__ import annotations

__all__: list[str] = []
