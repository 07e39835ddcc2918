"""Which configuration a `hub` command uses, and where it looked, so that a command run
without one can say so (`hub token`, `hub audit verify`, `hub client list`), and whether
the hub store is there before a command that only reads it opens (and so creates) it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from auth.ledger.tables import ledger_entries
from hub.demo import DEMO_CONFIG
from hub.settings import ConfigError, Settings, default_data_dir
from hub.store import create_store_engine


@dataclass(frozen=True, slots=True)
class ConfigLookup:
    """The configuration file a command uses (None: the defaults) and where it looked."""

    path: Path | None
    looked: tuple[str, ...]

    def describe(self) -> str:
        if self.path is not None:
            return f"configuration: {self.path}"
        return "no configuration file: looked for " + " and ".join(self.looked) + ", so the defaults apply"


def find_config(config: Path | None, data_dir: Path | None) -> ConfigLookup:
    """--config when given; else the demo's configuration in the data directory (what
    `hub demo` writes), when it is there."""
    if config is not None:
        return ConfigLookup(config, (f"--config {config}",))
    demo_config = (data_dir or default_data_dir()) / DEMO_CONFIG
    looked = ("--config (not given)", f"{demo_config} (absent; `hub demo` writes it)")
    return ConfigLookup(demo_config, (str(demo_config),)) if demo_config.is_file() else ConfigLookup(None, looked)


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    database = parsed.database
    if not database or database == ":memory:":
        return None
    return Path(database.removeprefix("file:").split("?")[0]) if parsed.query.get("uri") else Path(database)


async def missing_store(settings: Settings) -> str | None:
    """Why there is no hub store with an access ledger to read (None: there is one),
    found without creating anything: a SQLite file that does not exist is not opened."""
    url = settings.resolved_store_url
    file = _sqlite_file(url)
    if file is not None:
        return None if file.is_file() else f"no hub store at {file}"
    if file is None and make_url(url).drivername.startswith("sqlite"):
        return None  # in memory: nothing to look for
    engine = create_store_engine(url)
    try:
        async with engine.connect() as conn:
            present = await conn.run_sync(lambda sync: inspect(sync).has_table(ledger_entries.name))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the store is the answer
        raise ConfigError(f"the hub store cannot be reached ({make_url(url).render_as_string()}): "
                          f"{type(exc).__name__}") from exc
    finally:
        await engine.dispose()
    return None if present else f"no access ledger in the hub store {make_url(url).render_as_string()}"


__all__ = ["ConfigLookup", "find_config", "missing_store"]
