"""The licensing source (SiCantik-style): code tables and the REST backend."""

from __future__ import annotations

from connectors.licensing.rest import RestLicensingSource

__all__ = ["RestLicensingSource"]
