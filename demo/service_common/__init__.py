"""What the two sample REST services share: errors, the gate (API key, faults, request
counts), keyset search over a collection with child lists, the change feed, idempotent
writes, bulk-load helpers and the command line."""

from __future__ import annotations

from demo.service_common.app import build_app
from demo.service_common.collection import Child, Collection, change_status, get_one, search
from demo.service_common.errors import ApiError, JSONResponse, bad_request, not_found
from demo.service_common.faults import Faults, RequestStats
from demo.service_common.server import main as run_service

__all__ = [
    "ApiError",
    "Child",
    "Collection",
    "Faults",
    "JSONResponse",
    "RequestStats",
    "bad_request",
    "build_app",
    "change_status",
    "get_one",
    "not_found",
    "run_service",
    "search",
]
