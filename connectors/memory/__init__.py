"""In-memory sources: the three protocols over lists of records, for fast tests.

Same ordering, filters, keyset pagination and errors as the real backends; `calls`
counts calls per method (to assert batching) and setting `failure` to a connector
error makes every call raise it (to test degradation).
"""

from __future__ import annotations

from connectors.memory.complaints import InMemoryComplaintSource
from connectors.memory.licensing import InMemoryLicensingSource
from connectors.memory.population import InMemoryPopulationSource

__all__ = [
    "InMemoryComplaintSource",
    "InMemoryLicensingSource",
    "InMemoryPopulationSource",
]
