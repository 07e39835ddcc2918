"""The hub store's schema, kept by Alembic migrations.

    hub/migrations/scripts/          the Alembic script directory (shipped as package data)
        env.py                       runs on the connection it is handed, never its own
        versions/0001_baseline.py    the tables as the hub created them before migrations
        versions/0002_....py         each later change, one revision per change

A store is *current* when its `alembic_version` row names this release's head, *behind*
when it names an older revision or none (an empty store, or one the hub made before it
had migrations: the baseline adopts its tables, creating only what is missing), and
*ahead* when it names a revision this release does not know (a newer hub migrated it).

`upgrade_store` brings a store to the head in one transaction; on PostgreSQL it first
takes an advisory lock, so that instances starting together migrate one after the
other (the others then find nothing to do). `require_current` refuses a store that is
not current, with a message that says what to run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command as alembic_command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.settings import ConfigError

SCRIPTS = Path(__file__).parent / "scripts"
#: pg_advisory_xact_lock's key for "migrating the hub store" (any fixed 64-bit number)
MIGRATION_LOCK = 0x53494D50554C  # "SIMPUL"


class StoreNotCurrent(ConfigError):
    """The hub store's schema is not the one this release needs; the message says what to do."""


@dataclass(frozen=True)
class StoreRevision:
    current: str | None  # None: no migration has run (empty, or made before migrations)
    head: str
    known: bool  # the current revision is one of this release's

    @property
    def state(self) -> str:
        if self.current == self.head:
            return "current"
        return "behind" if self.known else "ahead"


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None  # the baseline exists
    return head


def _revision(connection: Connection) -> StoreRevision:
    scripts = ScriptDirectory.from_config(_config())
    current = MigrationContext.configure(connection).get_current_revision()
    known = current is None or current in {script.revision for script in scripts.walk_revisions()}
    return StoreRevision(current=current, head=head_revision(), known=known)


async def store_revision(engine: AsyncEngine) -> StoreRevision:
    async with engine.connect() as conn:
        return await conn.run_sync(_revision)


def _upgrade(connection: Connection) -> StoreRevision:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    before = _revision(connection)
    if before.state == "ahead":
        raise StoreNotCurrent(_ahead_message(before))
    if before.state == "behind":
        alembic_command.upgrade(_config(connection), "head")
    return before


async def upgrade_store(engine: AsyncEngine) -> StoreRevision:
    """Migrate the store to this release's head; the revision it was at before."""
    async with engine.begin() as conn:
        return await conn.run_sync(_upgrade)


async def require_current(engine: AsyncEngine) -> StoreRevision:
    revision = await store_revision(engine)
    if revision.state == "ahead":
        raise StoreNotCurrent(_ahead_message(revision))
    if revision.state == "behind":
        raise StoreNotCurrent(
            f"the hub store is behind: it is at revision {revision.current or '(none)'}, this hub needs "
            f"{revision.head}; run `hub migrate` (or set store_migrations = \"upgrade\" to migrate at start-up)"
        )
    return revision


async def prepare_store(engine: AsyncEngine, mode: str) -> StoreRevision:
    """What a start does with the store (the `store_migrations` setting): "upgrade"
    migrates it, "refuse" refuses it unless it is current."""
    return await upgrade_store(engine) if mode == "upgrade" else await require_current(engine)


def _ahead_message(revision: StoreRevision) -> str:
    return (f"the hub store is at revision {revision.current}, which this hub does not know (its newest is "
            f"{revision.head}): a newer release migrated it; run that release, or restore a backup")


__all__ = [
    "StoreNotCurrent",
    "StoreRevision",
    "head_revision",
    "prepare_store",
    "require_current",
    "store_revision",
    "upgrade_store",
]
