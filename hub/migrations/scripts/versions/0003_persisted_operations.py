"""Persisted operations and automatic persisted queries (issue 27): the tables of
`hub.persisted.tables`, written out here so that this revision creates the same tables
whatever later code defines. As in the baseline, a table already there is left as it is.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if 'persisted_operations' not in existing:
        _persisted_operations()
    if 'apq_documents' not in existing:
        _apq_documents()


def _persisted_operations() -> None:
    op.create_table('persisted_operations',
        sa.Column('client', sa.String(length=64), nullable=False),
        sa.Column('operation_id', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=True),
        sa.Column('operation_type', sa.String(length=16), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('roles', sa.JSON(), nullable=False),
        sa.Column('pushed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('client', 'operation_id')
    )


def _apq_documents() -> None:
    op.create_table('apq_documents',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('sha256')
    )
    op.create_index('ix_apq_documents_used_at', 'apq_documents', ['used_at'], unique=False)


def downgrade() -> None:
    raise RuntimeError("the hub store is not downgraded: restore a backup")
