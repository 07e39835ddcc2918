"""Alembic's environment for the hub store: it runs on the connection `hub.migrations`
hands it (inside that caller's transaction), never on one of its own, so there is no
alembic.ini and no URL here."""

from __future__ import annotations

from alembic import context

from hub.store import store_tables

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=store_tables(),  # for `alembic revision --autogenerate`
    render_as_batch=True,  # SQLite alters tables by copying them: say so in new revisions
)
with context.begin_transaction():
    context.run_migrations()
