"""Live updates and notifications (issue 25): the event log, each change feed's
position and the feed readers' lease (`hub.events.log`); the notification outbox and
the citizens' choice (`hub.notifications.outbox`). Written out here so that this
revision creates the same tables whatever later code defines. As in the baseline, a
table already there is left as it is.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, create in (("hub_events", _events), ("hub_feed_positions", _positions), ("hub_feed_leases", _leases),
                         ("notification_outbox", _outbox), ("notification_preferences", _preferences)):
        if name not in existing:
            create()


def _events() -> None:
    op.create_table('hub_events',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('number', sa.String(length=100), nullable=False),
        sa.Column('status', sa.String(length=40), nullable=False),
        sa.Column('at', sa.String(length=40), nullable=False),
        sa.Column('logged', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('id')
    )


def _positions() -> None:
    op.create_table('hub_feed_positions',
        sa.Column('source', sa.String(length=40), nullable=False),
        sa.Column('cursor', sa.String(length=200), nullable=True),
        sa.Column('updated', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('source')
    )


def _leases() -> None:
    op.create_table('hub_feed_leases',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('holder', sa.String(length=100), nullable=False),
        sa.Column('expires', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('name')
    )


def _outbox() -> None:
    op.create_table('notification_outbox',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('recipient_nik', sa.String(length=16), nullable=False),
        sa.Column('case_number', sa.String(length=100), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt', sa.Float(), nullable=False),
        sa.Column('last_error', sa.String(length=200), nullable=True),
        sa.Column('created', sa.Float(), nullable=False),
        sa.Column('delivered', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('event_id', 'recipient_nik', name='uq_notification_event_recipient')
    )
    op.create_index('ix_notification_outbox_state', 'notification_outbox', ['state'], unique=False)


def _preferences() -> None:
    op.create_table('notification_preferences',
        sa.Column('nik', sa.String(length=16), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('updated', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('nik')
    )


def downgrade() -> None:
    raise RuntimeError("the hub store is not downgraded: restore a backup")
