"""The tamper-evident access ledger: one hash-chained entry per personal record returned.

    append(engine, drafts)          write a request's entries (one transaction, fail closed)
    LedgerWriter(engine).append     the same, with concurrent requests sharing a commit
    verify(engine, verifier=...)    walk the chain; the first broken entry, if any
    query_entries(engine, ...)      filtered, keyset-paged reads (auditors, citizens)
    prune(engine, before=, signer=) retention with a signed checkpoint
    anchor_head(engine, file, signer=)  sign the head into a file outside the store
    check_head_checkpoints(engine, cps) does the chain still reach what was signed?

Tables: `ledger_metadata` (or `register_tables(metadata)` onto the hub store's).
"""

from __future__ import annotations

from auth.ledger.anchor_file import CheckpointFile, FileReading
from auth.ledger.anchors import (
    Anchored,
    Contradiction,
    HeadCheck,
    HeadCheckpoint,
    anchor_head,
    check_head_checkpoints,
)
from auth.ledger.chain import canonical_bytes, checkpoint_bytes, entry_hash, format_time
from auth.ledger.errors import (
    InvalidLedgerDraft,
    InvalidLedgerQuery,
    LedgerError,
    LedgerUnavailable,
)
from auth.ledger.model import GENESIS_HASH, Action, Checkpoint, LedgerDraft, LedgerEntry
from auth.ledger.prune import Signer, prune
from auth.ledger.query import query_entries
from auth.ledger.store import append
from auth.ledger.tables import ledger_metadata, register_tables
from auth.ledger.transactions import prepare_engine
from auth.ledger.verify import Problem, Verifier, VerifyResult, verify
from auth.ledger.writer import LedgerWriter

__all__ = [
    "GENESIS_HASH",
    "Action",
    "Anchored",
    "Checkpoint",
    "CheckpointFile",
    "Contradiction",
    "FileReading",
    "HeadCheck",
    "HeadCheckpoint",
    "InvalidLedgerDraft",
    "InvalidLedgerQuery",
    "LedgerDraft",
    "LedgerEntry",
    "LedgerError",
    "LedgerUnavailable",
    "LedgerWriter",
    "Problem",
    "Signer",
    "Verifier",
    "VerifyResult",
    "anchor_head",
    "append",
    "canonical_bytes",
    "check_head_checkpoints",
    "checkpoint_bytes",
    "entry_hash",
    "format_time",
    "ledger_metadata",
    "prepare_engine",
    "prune",
    "query_entries",
    "register_tables",
    "verify",
]
