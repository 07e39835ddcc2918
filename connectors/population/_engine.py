"""Database URL handling and the one place SQLAlchemy errors become connector errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from connectors._budget import remaining
from connectors.errors import ConnectorError, SourceTimeout, SourceUnavailable

_ASYNC_POSTGRES_DRIVERS = frozenset({"asyncpg", "psycopg"})


def async_url(url: str | URL, *, read_only: bool) -> URL:
    """`url` with an async driver (aiosqlite, asyncpg); SQLite files opened read-only.

    Raises `ValueError` for a malformed URL or an unsupported database.
    """
    try:
        parsed = make_url(url)
    except (sa_exc.ArgumentError, ValueError, TypeError) as exc:
        raise ValueError(f"invalid database URL: {exc}") from exc
    dialect = parsed.drivername.partition("+")[0]
    driver = parsed.drivername.partition("+")[2]
    if dialect == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
        database = parsed.database or ""
        if (
            read_only
            and database
            and database != ":memory:"
            and "mode=" not in database
        ):
            query = dict(parsed.query)
            query.update({"mode": "ro", "uri": "true"})
            if not database.startswith("file:"):
                database = f"file:{database}"
            parsed = parsed.set(database=database, query=query)
        return parsed
    if dialect in ("postgresql", "postgres"):
        if driver not in _ASYNC_POSTGRES_DRIVERS:
            parsed = parsed.set(drivername="postgresql+asyncpg")
        return parsed
    raise ValueError(
        f"unsupported database {dialect!r}: use a sqlite:// or postgresql:// URL"
    )


def engine_options(url: URL, *, pool_size: int, timeout: float) -> dict[str, Any]:
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return {}  # a static pool: one shared in-memory database
    options: dict[str, Any] = {"pool_size": pool_size, "pool_timeout": timeout}
    if url.get_backend_name() == "postgresql" and url.get_driver_name() == "asyncpg":
        options["connect_args"] = {"timeout": timeout}
    return options


class _Interrupted(TimeoutError):
    """A statement was interrupted because the call ran out of time."""


@asynccontextmanager
async def _sqlite_connection(
    engine: AsyncEngine, timeout: float
) -> AsyncIterator[AsyncConnection]:
    """aiosqlite runs each connection in a worker thread, and cancelling a call there
    leaks the connection or waits for the statement to finish. So instead of
    cancelling, a timer interrupts the running statement (sqlite3's thread-safe
    `interrupt`), which then fails at once; that failure is the timeout."""
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        fired = False

        def expire() -> None:
            nonlocal fired
            fired = True
            _interrupt_sqlite(raw.driver_connection)

        timer = asyncio.get_running_loop().call_later(timeout, expire)
        try:
            yield conn
        except sa_exc.OperationalError as exc:
            if fired:
                raise _Interrupted() from exc
            raise
        finally:
            timer.cancel()


def _interrupt_sqlite(driver_connection: Any) -> None:
    """Abort the statement an aiosqlite connection runs (sqlite3's thread-safe interrupt)."""
    sqlite_connection = getattr(driver_connection, "_connection", None)
    if sqlite_connection is not None:
        sqlite_connection.interrupt()


def _describe(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    first_line = str(original).strip().splitlines()[0] if str(original).strip() else ""
    name = type(original).__name__
    return f"{name}: {first_line[:200]}" if first_line else name


@asynccontextmanager
async def connection(
    engine: AsyncEngine, *, source: str, operation: str, timeout: float
) -> AsyncIterator[AsyncConnection]:
    """One connection for one call, bounded by `timeout`, errors translated.

    Timeouts (ours or the pool's) → `SourceTimeout`; any other database or network
    failure → `SourceUnavailable`. Connector errors raised by the caller pass through.
    Never longer than what is left of the guard's budget (`connectors._budget`).
    """
    timeout = remaining(timeout)
    try:
        if engine.dialect.name == "sqlite":
            async with _sqlite_connection(engine, timeout) as conn:
                yield conn
        else:
            async with asyncio.timeout(timeout):
                async with engine.connect() as conn:
                    yield conn
    except ConnectorError:
        raise
    except (TimeoutError, sa_exc.TimeoutError, _Interrupted) as exc:
        raise SourceTimeout(
            source, f"no answer within {timeout:g} s", operation=operation
        ) from exc
    except (sa_exc.SQLAlchemyError, OSError) as exc:
        raise SourceUnavailable(
            source, f"database error ({_describe(exc)})", operation=operation
        ) from exc
