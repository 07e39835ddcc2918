"""The ledger's tables, on a MetaData the hub store creates.

    ledger_entries      one row per entry; `seq` is the chain position, gap-free from 1
    ledger_head         one row (id 1): the last seq and hash, locked by every writer
    ledger_checkpoints  one row per prune: where the surviving chain begins

`seq` is assigned from the locked head row, never by autoincrement, so that writers in
several processes cannot fork the chain. The head row also lets `verify` notice that
the newest entries were removed (unless it was set back too: the signed head checkpoints
of `auth.ledger.anchors`, kept outside the store, show that).

The hub either creates `ledger_metadata` as it is, or copies the tables onto its own
MetaData with `register_tables`. The ledger's functions compile against the tables
defined here, which have the same names and columns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import orjson
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.types import TypeEngine

from auth.ledger.chain import format_time


class UTCTime(TypeDecorator[datetime]):
    """An aware UTC datetime with microseconds.

    PostgreSQL stores ``timestamptz``; SQLite stores the chain's fixed ISO text, which
    sorts like the times it holds and reads back without loss.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(27))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return format_time(value)
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value)
        return cast(datetime, value).astimezone(UTC)


class StringTuple(TypeDecorator[tuple[str, ...]]):
    """A tuple of strings, stored as a JSON array."""

    impl = Text
    cache_ok = True

    def process_bind_param(
        self, value: tuple[str, ...] | None, dialect: Dialect
    ) -> Any:
        return None if value is None else orjson.dumps(list(value)).decode()

    def process_result_value(
        self, value: Any, dialect: Dialect
    ) -> tuple[str, ...] | None:
        return None if value is None else tuple(orjson.loads(value))


_SEQ = BigInteger().with_variant(Integer, "sqlite")  # SQLite: the rowid itself

_ACTIONS_CHECK = "action IN ('read', 'write', 'search')"  # `search` since issue 21 (hub migration 0002)

ledger_metadata = MetaData()

ledger_entries = Table(
    "ledger_entries",
    ledger_metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=False),
    Column("time", UTCTime(), nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("roles", StringTuple(), nullable=False),
    Column("client_id", String(255)),
    Column("purpose", String(64)),
    Column("case", String(64)),
    Column("operation_name", String(255)),
    Column("document_hash", String(64), nullable=False),
    Column("record_type", String(64), nullable=False),
    Column("record_key", String(64), nullable=False),
    Column("fields", StringTuple(), nullable=False),
    Column("masked_fields", StringTuple(), nullable=False),
    Column("action", String(8), nullable=False),
    Column("detail", Text),
    Column("department", String(64)),
    Column("prev_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False),
    CheckConstraint(_ACTIONS_CHECK, name="ck_ledger_entries_action"),
    Index("ix_ledger_entries_record_key_seq", "record_key", "seq"),
    Index("ix_ledger_entries_subject_seq", "subject", "seq"),
    Index("ix_ledger_entries_time", "time"),
)

ledger_head = Table(
    "ledger_head",
    ledger_metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("entry_hash", String(64), nullable=False),
    CheckConstraint("id = 1", name="ck_ledger_head_single_row"),
)

ledger_checkpoints = Table(
    "ledger_checkpoints",
    ledger_metadata,
    Column("last_seq", BigInteger, primary_key=True, autoincrement=False),
    Column("last_hash", String(64), nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("time", UTCTime(), nullable=False),
    Column("signature", Text, nullable=False),
)

LEDGER_TABLES: tuple[Table, ...] = (ledger_entries, ledger_head, ledger_checkpoints)


def register_tables(metadata: MetaData) -> tuple[Table, ...]:
    """Copy the ledger's tables onto the hub store's MetaData (idempotent)."""
    return tuple(
        metadata.tables[table.name]
        if table.name in metadata.tables
        else table.to_metadata(metadata)
        for table in LEDGER_TABLES
    )
