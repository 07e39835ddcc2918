"""The complaint source (LAPOR!-style): code tables and the REST backend."""

from __future__ import annotations

from connectors.complaints.rest import RestComplaintSource

__all__ = ["RestComplaintSource"]
