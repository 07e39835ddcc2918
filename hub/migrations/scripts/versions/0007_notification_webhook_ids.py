"""Each notification's webhook id in `notification_outbox.webhook_id`, unique across hubs
(`msg_` + a random UUID's hex, given when a message is queued): the outbox row's number,
which the hub sent as `ntf_<id>` before, repeats in every other store, so a gateway
shared by two hubs (or by one whose store was rebuilt) dropped real messages as repeats.
The messages already queued keep `ntf_<id>`, the id they may already have been sent
with, so a gateway still drops their retries. A column already there is left as it is.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("notification_outbox")}
    if 'webhook_id' in columns:
        return
    op.add_column('notification_outbox', sa.Column('webhook_id', sa.String(length=40), nullable=True))
    op.execute("UPDATE notification_outbox SET webhook_id = 'ntf_' || CAST(id AS VARCHAR(20))")
    with op.batch_alter_table('notification_outbox') as batch:  # SQLite: copies the table
        batch.alter_column('webhook_id', existing_type=sa.String(length=40), nullable=False)
    op.create_index('ix_notification_outbox_webhook_id', 'notification_outbox', ['webhook_id'], unique=True)


def downgrade() -> None:
    raise RuntimeError("the hub store is not downgraded: restore a backup")
