"""Baseline: the hub store's tables as the hub created them before it had migrations.

A store the hub made then (with `create_all` at every start) has some or all of these
tables and no `alembic_version`: each table is created only if it is missing, so such a
store is adopted as it is, and an empty store gets them all. What later revisions
change is theirs (0002: the ledger's `search` action for stores made before issue 21).

The tables are written out here, not taken from the code's MetaData, so that this
revision creates the same tables whatever later code defines.

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

#: the ledger's times: timestamptz on PostgreSQL, fixed ISO text on SQLite (auth.ledger.tables.UTCTime)
UTC_TIME = sa.DateTime(timezone=True).with_variant(sa.String(27), "sqlite")


def _ledger_checkpoints() -> None:
    op.create_table('ledger_checkpoints',
        sa.Column('last_seq', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('last_hash', sa.String(length=64), nullable=False),
        sa.Column('count', sa.BigInteger(), nullable=False),
        sa.Column('time', UTC_TIME, nullable=False),
        sa.Column('signature', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('last_seq')
    )


def _ledger_entries() -> None:
    op.create_table('ledger_entries',
        sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
        sa.Column('time', UTC_TIME, nullable=False),
        sa.Column('request_id', sa.String(length=128), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('roles', sa.Text(), nullable=False),
        sa.Column('client_id', sa.String(length=255), nullable=True),
        sa.Column('purpose', sa.String(length=64), nullable=True),
        sa.Column('case', sa.String(length=64), nullable=True),
        sa.Column('operation_name', sa.String(length=255), nullable=True),
        sa.Column('document_hash', sa.String(length=64), nullable=False),
        sa.Column('record_type', sa.String(length=64), nullable=False),
        sa.Column('record_key', sa.String(length=64), nullable=False),
        sa.Column('fields', sa.Text(), nullable=False),
        sa.Column('masked_fields', sa.Text(), nullable=False),
        sa.Column('action', sa.String(length=8), nullable=False),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.Column('department', sa.String(length=64), nullable=True),
        sa.Column('prev_hash', sa.String(length=64), nullable=False),
        sa.Column('entry_hash', sa.String(length=64), nullable=False),
        sa.CheckConstraint("action IN ('read', 'write', 'search')", name='ck_ledger_entries_action'),
        sa.PrimaryKeyConstraint('seq')
    )
    op.create_index('ix_ledger_entries_record_key_seq', 'ledger_entries', ['record_key', 'seq'], unique=False)
    op.create_index('ix_ledger_entries_subject_seq', 'ledger_entries', ['subject', 'seq'], unique=False)
    op.create_index('ix_ledger_entries_time', 'ledger_entries', ['time'], unique=False)


def _ledger_head() -> None:
    op.create_table('ledger_head',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('entry_hash', sa.String(length=64), nullable=False),
        sa.CheckConstraint('id = 1', name='ck_ledger_head_single_row'),
        sa.PrimaryKeyConstraint('id')
    )


def _metrics_application_facts() -> None:
    op.create_table('metrics_application_facts',
        sa.Column('number', sa.String(length=100), nullable=False),
        sa.Column('permit_type_code', sa.String(length=40), nullable=False),
        sa.Column('permit_type_name', sa.String(length=200), nullable=False),
        sa.Column('service_level_days', sa.Integer(), nullable=False),
        sa.Column('kelurahan_code', sa.String(length=10), nullable=False),
        sa.Column('status', sa.String(length=30), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('received_on', sa.Date(), nullable=False),
        sa.Column('file_complete_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('finished', sa.Boolean(), nullable=False),
        sa.Column('due_date', sa.Date(), nullable=True),
        sa.Column('working_days', sa.Integer(), nullable=True),
        sa.Column('on_time', sa.Boolean(), nullable=True),
        sa.Column('overdue', sa.Boolean(), nullable=False),
        sa.Column('aged_on', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('number')
    )
    op.create_index('ix_metrics_app_kelurahan', 'metrics_application_facts', ['kelurahan_code', 'received_on'], unique=False)
    op.create_index('ix_metrics_app_open', 'metrics_application_facts', ['finished', 'aged_on'], unique=False)
    op.create_index('ix_metrics_app_received', 'metrics_application_facts', ['received_on'], unique=False)
    op.create_index('ix_metrics_app_type', 'metrics_application_facts', ['permit_type_code', 'received_on'], unique=False)


def _metrics_complaint_facts() -> None:
    op.create_table('metrics_complaint_facts',
        sa.Column('number', sa.String(length=100), nullable=False),
        sa.Column('category', sa.String(length=100), nullable=False),
        sa.Column('classification', sa.String(length=30), nullable=False),
        sa.Column('kelurahan_code', sa.String(length=10), nullable=False),
        sa.Column('visibility', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=30), nullable=False),
        sa.Column('submitted_at', sa.DateTime(), nullable=False),
        sa.Column('submitted_on', sa.Date(), nullable=False),
        sa.Column('verified_at', sa.DateTime(), nullable=True),
        sa.Column('disposed_at', sa.DateTime(), nullable=True),
        sa.Column('followed_up_at', sa.DateTime(), nullable=True),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.Column('finished', sa.Boolean(), nullable=False),
        sa.Column('verification_days', sa.Integer(), nullable=True),
        sa.Column('follow_up_days', sa.Integer(), nullable=True),
        sa.Column('verified_in_time', sa.Boolean(), nullable=True),
        sa.Column('followed_up_in_time', sa.Boolean(), nullable=True),
        sa.Column('aged_on', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('number')
    )
    op.create_index('ix_metrics_cmp_category', 'metrics_complaint_facts', ['category', 'submitted_on'], unique=False)
    op.create_index('ix_metrics_cmp_kelurahan', 'metrics_complaint_facts', ['kelurahan_code', 'submitted_on'], unique=False)
    op.create_index('ix_metrics_cmp_submitted', 'metrics_complaint_facts', ['submitted_on'], unique=False)


def _metrics_refresh_state() -> None:
    op.create_table('metrics_refresh_state',
        sa.Column('source_id', sa.String(length=40), nullable=False),
        sa.Column('cursor', sa.Text(), nullable=True),
        sa.Column('refreshed_at', sa.DateTime(), nullable=True),
        sa.Column('backfilled', sa.Boolean(), nullable=False),
        sa.Column('records', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('source_id')
    )


def _satisfaction_survey() -> None:
    op.create_table('satisfaction_survey',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('receipt', sa.String(length=20), nullable=False),
        sa.Column('service', sa.String(length=40), nullable=False),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('submitted_on', sa.Date(), nullable=False),
        sa.Column('u1', sa.SmallInteger(), nullable=False),
        sa.Column('u2', sa.SmallInteger(), nullable=False),
        sa.Column('u3', sa.SmallInteger(), nullable=False),
        sa.Column('u4', sa.SmallInteger(), nullable=False),
        sa.Column('u5', sa.SmallInteger(), nullable=False),
        sa.Column('u6', sa.SmallInteger(), nullable=False),
        sa.Column('u7', sa.SmallInteger(), nullable=False),
        sa.Column('u8', sa.SmallInteger(), nullable=False),
        sa.Column('u9', sa.SmallInteger(), nullable=False),
        sa.Column('age_group', sa.String(length=20), nullable=True),
        sa.Column('sex', sa.String(length=10), nullable=True),
        sa.Column('education', sa.String(length=20), nullable=True),
        sa.Column('occupation', sa.String(length=20), nullable=True),
        sa.Column('application_number', sa.String(length=64), nullable=True),
        sa.Column('idempotency_key', sa.String(length=100), nullable=True),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('application_number'),
        sa.UniqueConstraint('idempotency_key'),
        sa.UniqueConstraint('receipt')
    )
    op.create_index('ix_satisfaction_survey_day', 'satisfaction_survey', ['submitted_on'], unique=False)
    op.create_index('ix_satisfaction_survey_service_day', 'satisfaction_survey', ['service', 'submitted_on'], unique=False)


def _satisfaction_survey_refused() -> None:
    op.create_table('satisfaction_survey_refused',
        sa.Column('request', sa.String(length=64), nullable=False),
        sa.Column('submitted_on', sa.Date(), nullable=False),
        sa.Column('service', sa.String(length=40), nullable=False),
        sa.Column('reason', sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint('request')
    )
    op.create_index('ix_satisfaction_survey_refused_day', 'satisfaction_survey_refused', ['submitted_on'], unique=False)


def _service_clients() -> None:
    op.create_table('service_clients',
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('secret_hash', sa.String(length=255), nullable=False),
        sa.Column('roles', sa.JSON(), nullable=False),
        sa.Column('scopes', sa.JSON(), nullable=False),
        sa.Column('purpose', sa.String(length=64), nullable=True),
        sa.Column('token_lifetime', sa.Integer(), nullable=False),
        sa.Column('revoked', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('client_id')
    )


TABLES: dict[str, Callable[[], None]] = {
    "ledger_checkpoints": _ledger_checkpoints,
    "ledger_entries": _ledger_entries,
    "ledger_head": _ledger_head,
    "metrics_application_facts": _metrics_application_facts,
    "metrics_complaint_facts": _metrics_complaint_facts,
    "metrics_refresh_state": _metrics_refresh_state,
    "satisfaction_survey": _satisfaction_survey,
    "satisfaction_survey_refused": _satisfaction_survey_refused,
    "service_clients": _service_clients,
}


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, create in TABLES.items():
        if name not in existing:
            create()


def downgrade() -> None:
    raise RuntimeError("the hub store is not downgraded (the access ledger is append-only): restore a backup")
