"""Helpers for tests of the ledger and of its callers: drafts, an HMAC signer, tables.

The HMAC signer stands in for the issuer's signing function in tests; production
passes a signer backed by the hub's private key and the matching verifier.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from auth.ledger.model import LedgerDraft
from auth.ledger.prune import Signer
from auth.ledger.tables import ledger_metadata
from auth.ledger.transactions import prepare_engine
from auth.ledger.verify import Verifier


def sample_draft(**overrides: Any) -> LedgerDraft:
    """A plausible draft of a population officer reading one citizen; override any field."""
    values: dict[str, Any] = {
        "request_id": "req-0001",
        "subject": "officer-1",
        "roles": ("population_officer",),
        "purpose": "population-service",
        "document_hash": hashlib.sha256(
            b"query { citizen(nik: $nik) { name } }"
        ).hexdigest(),
        "record_type": "Citizen",
        "record_key": "1471080101900001",
        "fields": ("name", "nik"),
        "masked_fields": (),
        "operation_name": "CitizenByNik",
        "department": "population",
    }
    values.update(overrides)
    return LedgerDraft(**values)


def hmac_signer(key: bytes) -> Signer:
    def sign(payload: bytes) -> str:
        return hmac.new(key, payload, hashlib.sha256).hexdigest()

    return sign


def hmac_verifier(key: bytes) -> Verifier:
    def check(payload: bytes, signature: str) -> bool:
        return hmac.compare_digest(
            hmac.new(key, payload, hashlib.sha256).hexdigest(), signature
        )

    return check


async def create_ledger_tables(engine: AsyncEngine) -> None:
    """Create the ledger's tables on `engine` (the hub store does this in production)."""
    prepare_engine(engine)
    async with engine.begin() as conn:
        await conn.run_sync(ledger_metadata.create_all)
