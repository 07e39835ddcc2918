"""Automatic persisted queries bounded in bytes too (`persisted_queries.apq_max_total_bytes`):
each document's size in `apq_documents.bytes`, filled in for the documents already kept.
A column already there is left as it is.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("apq_documents")}
    if 'bytes' not in columns:
        op.add_column('apq_documents', sa.Column('bytes', sa.Integer(), nullable=False, server_default=sa.text('0')))
        op.execute("UPDATE apq_documents SET bytes = length(body)")


def downgrade() -> None:
    raise RuntimeError("the hub store is not downgraded: restore a backup")
