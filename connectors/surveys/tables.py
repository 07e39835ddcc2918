"""The survey table in the hub store, on its own MetaData (`surveys_metadata`).

One row per response: the nine scores as columns so that SUM per element is one
aggregate query; the local (Asia/Jakarta) day for period filters; a unique linked
application number (one survey per completed application) and a unique idempotency
key. Unique columns allow many NULLs on SQLite and PostgreSQL alike.

Refused answers (a second answer for an application, a caller past its daily
allowance, an application that cannot be surveyed) are counted, not stored: one row per
refused request with its local day, service and reason, so that the published index
can say how many answers it refused. Both tables are created by `create_all`, so a store
from before the refusals table gains it at the next start, its answers untouched."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
)

from connectors.surveys.codes import MAX_SCORE, MIN_SCORE, SCORE_COUNT

surveys_metadata = MetaData()

SCORE_COLUMNS: tuple[str, ...] = tuple(f"u{i}" for i in range(1, SCORE_COUNT + 1))

surveys = Table(
    "satisfaction_survey",
    surveys_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("receipt", String(20), nullable=False, unique=True),
    Column("service", String(40), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("submitted_on", Date, nullable=False),  # local day, Asia/Jakarta
    *(
        Column(name, SmallInteger, CheckConstraint(f"{name} BETWEEN {MIN_SCORE} AND {MAX_SCORE}"),
               nullable=False)
        for name in SCORE_COLUMNS
    ),
    Column("age_group", String(20)),
    Column("sex", String(10)),
    Column("education", String(20)),
    Column("occupation", String(20)),
    Column("application_number", String(64), unique=True),
    Column("idempotency_key", String(100), unique=True),
    Column("fingerprint", String(64), nullable=False),
)

Index("ix_satisfaction_survey_service_day", surveys.c.service, surveys.c.submitted_on)
Index("ix_satisfaction_survey_day", surveys.c.submitted_on)

refusals = Table(
    "satisfaction_survey_refused",
    surveys_metadata,
    # one row per refused request: its idempotency key or its answer, hashed, so the
    # same request refused twice counts once (random for an answer that names neither)
    Column("request", String(64), primary_key=True),
    Column("submitted_on", Date, nullable=False),  # local day, Asia/Jakarta
    Column("service", String(40), nullable=False),
    Column("reason", String(30), nullable=False),
)

Index("ix_satisfaction_survey_refused_day", refusals.c.submitted_on)
