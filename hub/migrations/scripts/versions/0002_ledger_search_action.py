"""The access ledger takes `search` entries (issue 21): a store made before them has a
CHECK on `ledger_entries.action` that allows only read and write.

Widening a CHECK changes nothing stored. On SQLite the table's schema text is edited in
place (SQLite's documented way for constraint changes that existing rows already meet,
with the schema version bumped so that every connection re-reads it), rather than
copying the whole ledger into a new table; on PostgreSQL the constraint is replaced.
A store that already allows `search` (the baseline's tables, or a store the hub widened
at start-up before migrations) is left as it is.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ACTIONS = "action IN ('read', 'write', 'search')"
OLD_ACTIONS = "action IN ('read', 'write')"


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        sql = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'ledger_entries'"
        ).scalar()
        if sql is None or OLD_ACTIONS not in sql:
            return
        version = connection.exec_driver_sql("PRAGMA schema_version").scalar()
        connection.exec_driver_sql("PRAGMA writable_schema = ON")
        connection.exec_driver_sql(
            "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'ledger_entries'",
            (OLD_ACTIONS, ACTIONS),
        )
        connection.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
        connection.exec_driver_sql("PRAGMA writable_schema = OFF")
    elif connection.dialect.name == "postgresql":
        definition = connection.exec_driver_sql(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'ck_ledger_entries_action'"
            " AND conrelid = 'ledger_entries'::regclass"
        ).scalar()
        if definition is None or "search" in definition:
            return
        op.drop_constraint("ck_ledger_entries_action", "ledger_entries", type_="check")
        op.create_check_constraint("ck_ledger_entries_action", "ledger_entries", ACTIONS)


def downgrade() -> None:
    raise RuntimeError("the hub store is not downgraded (the access ledger is append-only): restore a backup")
