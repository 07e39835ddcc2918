"""`hub migrate`: bring the hub store to this release's schema, or say where it stands.

    hub migrate            upgrade to the head; exit 0 (also when there was nothing to do)
    hub migrate --status   print the current and head revisions; exit 0 current,
                           1 behind (run `hub migrate`), 2 ahead (a newer release migrated it)
"""

from __future__ import annotations

import argparse

from sqlalchemy.engine import make_url

from hub.migrations import StoreRevision, prepare_store, store_revision, upgrade_store
from hub.settings import Settings
from hub.store import create_store_engine

STATUS_EXIT = {"current": 0, "behind": 1, "ahead": 2}


def store_name(settings: Settings) -> str:
    """The store's URL without its password, for messages."""
    return make_url(settings.resolved_store_url).render_as_string(hide_password=True)


async def ready_store(settings: Settings) -> StoreRevision:
    """What a start does (`store_migrations`), once, before the server (and its workers) start."""
    engine = create_store_engine(settings.resolved_store_url)
    try:
        return await prepare_store(engine, settings.store_migrations)
    finally:
        await engine.dispose()


async def run_migrate_command(settings: Settings, args: argparse.Namespace) -> int:
    engine = create_store_engine(settings.resolved_store_url)
    try:
        if args.status:
            revision = await store_revision(engine)
            print(f"store:   {store_name(settings)}")
            print(f"current: {revision.current or '(none)'}")
            print(f"head:    {revision.head}")
            print(f"state:   {revision.state}")
            return STATUS_EXIT[revision.state]
        before = await upgrade_store(engine)
        if before.state == "current":
            print(f"hub store {store_name(settings)} is current (revision {before.head})")
        else:
            print(f"hub store {store_name(settings)} upgraded from {before.current or '(none)'} to {before.head}")
        return 0
    finally:
        await engine.dispose()
