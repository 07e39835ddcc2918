"""The hub store's tables for persisted operations and automatic persisted queries.

    persisted_operations   what `hub operations push` registered: per client, an id and
                           its document, the roles it was validated for at push
    apq_documents          automatic persisted queries: a document under its SHA-256,
                           bounded in count, bytes and age (hub.persisted.apq)

They live on their own `MetaData`, which the hub store creates with the others
(`hub.store.store_metadata`).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

operations_table = sa.Table(
    "persisted_operations",
    metadata,
    sa.Column("client", sa.String(64), primary_key=True),
    sa.Column("operation_id", sa.String(200), primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("operation_type", sa.String(16), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=False),
)

apq_table = sa.Table(
    "apq_documents",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("bytes", sa.Integer, nullable=False, server_default=sa.text("0")),  # the body's UTF-8 size
)

__all__ = ["apq_table", "metadata", "operations_table"]
