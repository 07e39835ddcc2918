"""The caller (`me`) and the health of the sources (`sources`)."""

from __future__ import annotations

import asyncio
import time

import strawberry

from auth.principal import Principal
from connectors.errors import ConnectorError
from connectors.protocols import Source


@strawberry.type(name="Principal", description="Who the hub thinks is asking.")
class Me:
    subject: str
    roles: list[str]
    department: str | None
    kelurahan: str | None
    nik: str | None
    scopes: list[str]
    client_id: str | None
    anonymous: bool

    @classmethod
    def of(cls, principal: Principal) -> Me:
        return cls(
            subject=principal.subject,
            roles=sorted(principal.roles),
            department=principal.department,
            kelurahan=principal.kelurahan,
            nik=principal.nik,
            scopes=sorted(principal.scopes),
            client_id=principal.client_id,
            anonymous=principal.is_anonymous,
        )


@strawberry.type(description="One source system as the hub sees it now.")
class SourceState:
    source: str
    up: bool
    state: str = strawberry.field(description="UP or DOWN (later: DEGRADED, CIRCUIT_OPEN).")
    detail: str | None
    response_ms: float | None


async def probe(source: Source, *, timeout: float = 2.0) -> SourceState:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            await source.check()
    except (ConnectorError, TimeoutError) as exc:
        detail = str(exc) or "no answer within the health-check timeout"
        return SourceState(source=source.source_id, up=False, state="DOWN", detail=detail, response_ms=None)
    elapsed = round((time.perf_counter() - started) * 1000, 2)
    return SourceState(source=source.source_id, up=True, state="UP", detail=None, response_ms=elapsed)


async def probe_all(sources: tuple[Source, ...]) -> list[SourceState]:
    return list(await asyncio.gather(*(probe(s) for s in sources)))
