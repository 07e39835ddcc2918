"""Citizen sessions kept in the hub store, so that signing out ends a session on every
instance (`hub.citizen.tables`), written out here so that this revision creates the same
table whatever later code defines. As in the baseline, a table already there is left as
it is.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if 'citizen_sessions' not in existing:
        _citizen_sessions()


def _citizen_sessions() -> None:
    op.create_table('citizen_sessions',
        sa.Column('id_hash', sa.String(length=64), nullable=False),
        sa.Column('nik', sa.String(length=16), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('seen', sa.Float(), nullable=False),
        sa.Column('expires', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('id_hash')
    )
    op.create_index('ix_citizen_sessions_expires', 'citizen_sessions', ['expires'], unique=False)


def downgrade() -> None:
    raise RuntimeError("the hub store is not downgraded: restore a backup")
