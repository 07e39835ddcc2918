"""The hub store's table for citizen sessions (hub.citizen.session_store), on its own
`MetaData`, which the hub store creates with the others (`hub.store.store_metadata`).

    citizen_sessions   one row per signed-in browser: the SHA-256 of its session id (the
                       id itself is only in the browser's cookie, so a copy of the store
                       signs no one in), the resident (NIK, `sub`, name), when it was
                       last used and when it ends at the latest
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

sessions_table = sa.Table(
    "citizen_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("nik", sa.String(16), nullable=False),
    sa.Column("subject", sa.String(255), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("seen", sa.Float, nullable=False),
    sa.Column("expires", sa.Float, nullable=False, index=True),
)

__all__ = ["metadata", "sessions_table"]
