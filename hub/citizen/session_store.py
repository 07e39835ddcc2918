"""Citizen sessions in the hub store (table: hub.citizen.tables), so that signing out
(and a session's end) holds on every instance at once.

A session id is 256 random bits, made anew at every sign-in (the one the browser held
before is deleted: no fixation); the store keeps only its SHA-256. A session is found only while it is younger than
`absolute_seconds` and was used within `idle_seconds`; signing out deletes its row, so a
copy of the cookie is nobody from the next request on, on whichever instance it arrives.
Every look-up reads the store (no per-instance cache, which would let a signed-out copy
live on elsewhere); a session's last use is written at most every `touch_seconds`, so
browsing costs no write per page. Ended sessions are deleted at the next sign-in.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.citizen.tables import sessions_table
from hub.store import write_transaction

MAX_SUBJECT = 255
_MAX_ID = 64  # a session id is 43 characters; anything longer is not one


@dataclass(frozen=True, slots=True)
class Resident:
    nik: str
    subject: str
    name: str | None


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class CitizenSessions:
    def __init__(self, engine: AsyncEngine, *, absolute_seconds: float, idle_seconds: float,
                 clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self.absolute_seconds = absolute_seconds
        self.idle_seconds = min(idle_seconds, absolute_seconds)
        self.touch_seconds = min(60.0, self.idle_seconds / 10)
        self._clock = clock

    async def start(self, resident: Resident, *, replacing: object = None) -> str:
        """A new session for `resident`; the id to give the browser. `replacing` (the id
        the browser held before, if any) ends."""
        session_id = secrets.token_urlsafe(32)
        now = self._clock()
        table = sessions_table
        async with write_transaction(self._engine) as conn:
            await conn.execute(table.delete().where(
                (table.c.expires <= now) | (table.c.seen <= now - self.idle_seconds)))
            if isinstance(replacing, str) and len(replacing) <= _MAX_ID:
                await conn.execute(table.delete().where(table.c.id_hash == _hash(replacing)))
            await conn.execute(table.insert().values(
                id_hash=_hash(session_id), nik=resident.nik, subject=resident.subject[:MAX_SUBJECT],
                name=(resident.name or "")[:100], seen=now, expires=now + self.absolute_seconds))
        return session_id

    async def find(self, session_id: object) -> Resident | None:
        """The resident of a live session, or None (unknown, ended, signed out, idle too long)."""
        if not isinstance(session_id, str) or len(session_id) > _MAX_ID:
            return None
        now = self._clock()
        table = sessions_table
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.select(table.c.nik, table.c.subject, table.c.name, table.c.seen).where(
                table.c.id_hash == _hash(session_id), table.c.expires > now,
                table.c.seen > now - self.idle_seconds))).first()
        if row is None:
            return None
        if now - row.seen >= self.touch_seconds:
            async with self._engine.begin() as conn:
                await conn.execute(table.update().where(table.c.id_hash == _hash(session_id)).values(seen=now))
        return Resident(nik=row.nik, subject=row.subject, name=row.name or None)

    async def end(self, session_id: object) -> None:
        if isinstance(session_id, str) and len(session_id) <= _MAX_ID:
            async with self._engine.begin() as conn:
                await conn.execute(sessions_table.delete().where(sessions_table.c.id_hash == _hash(session_id)))

    async def count(self) -> int:
        async with self._engine.connect() as conn:
            return int((await conn.execute(sa.select(sa.func.count()).select_from(sessions_table))).scalar_one())


__all__ = ["CitizenSessions", "Resident"]
