"""The materialised view's tables, on their own MetaData (the hub store creates them).

One row per case: the facts the service metrics need, computed once when the case
changes, so that every metric is a SQL aggregate over these narrow tables. Times are
stored as naive Asia/Jakarta wall-clock times; `*_on` columns hold the local date.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metrics_metadata = MetaData()

application_facts = Table(
    "metrics_application_facts",
    metrics_metadata,
    Column("number", String(100), primary_key=True),
    Column("permit_type_code", String(40), nullable=False),
    Column("permit_type_name", String(200), nullable=False),
    Column("service_level_days", Integer, nullable=False),
    Column("kelurahan_code", String(10), nullable=False),
    Column("status", String(30), nullable=False),
    Column("received_at", DateTime, nullable=False),
    Column("received_on", Date, nullable=False),
    Column("file_complete_at", DateTime),
    Column("finished_at", DateTime),
    Column("finished", Boolean, nullable=False),
    Column("due_date", Date),  # null while the file is incomplete
    # working days from a complete file to the end (finished) or to `aged_on` (open)
    Column("working_days", Integer),
    Column("on_time", Boolean),  # null unless finished with a complete file
    Column("overdue", Boolean, nullable=False),  # open and past its due date on `aged_on`
    Column("aged_on", Date, nullable=False),  # the day the time-dependent facts hold for
    Index("ix_metrics_app_received", "received_on"),
    Index("ix_metrics_app_kelurahan", "kelurahan_code", "received_on"),
    Index("ix_metrics_app_type", "permit_type_code", "received_on"),
    Index("ix_metrics_app_open", "finished", "aged_on"),
)

complaint_facts = Table(
    "metrics_complaint_facts",
    metrics_metadata,
    Column("number", String(100), primary_key=True),
    Column("category", String(100), nullable=False),
    Column("classification", String(30), nullable=False),
    Column("kelurahan_code", String(10), nullable=False),
    Column("visibility", String(20), nullable=False),
    Column("status", String(30), nullable=False),
    Column("submitted_at", DateTime, nullable=False),
    Column("submitted_on", Date, nullable=False),
    Column("verified_at", DateTime),  # first status after DITERIMA
    Column("disposed_at", DateTime),  # first disposition (DIDISPOSISIKAN)
    Column("followed_up_at", DateTime),  # first follow-up (DITINDAKLANJUTI)
    Column("resolved_at", DateTime),  # SELESAI
    Column("closed_at", DateTime),  # a final status: SELESAI, DIARSIPKAN, BUKAN_WEWENANG
    Column("finished", Boolean, nullable=False),
    Column("verification_days", Integer),  # working days to verification, or so far
    Column("follow_up_days", Integer),  # working days from disposition to follow-up, or so far
    # LAPOR! deadlines: true met, false missed, null not yet due (or not applicable)
    Column("verified_in_time", Boolean),
    Column("followed_up_in_time", Boolean),
    Column("aged_on", Date, nullable=False),
    Index("ix_metrics_cmp_submitted", "submitted_on"),
    Index("ix_metrics_cmp_kelurahan", "kelurahan_code", "submitted_on"),
    Index("ix_metrics_cmp_category", "category", "submitted_on"),
)

refresh_state = Table(
    "metrics_refresh_state",
    metrics_metadata,
    Column("source_id", String(40), primary_key=True),
    Column("cursor", Text),  # the source's change-feed cursor; null before the backfill
    Column("refreshed_at", DateTime),  # naive UTC
    Column("backfilled", Boolean, nullable=False, default=False),
    Column("records", Integer, nullable=False, default=0),  # facts written by the last run
)
