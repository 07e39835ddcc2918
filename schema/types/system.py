"""The caller (`me`) and the health of the sources (`sources`)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from auth.masks import in_text
from auth.principal import Principal
from connectors.errors import ConnectorError
from connectors.protocols import Source
from connectors.resilience import CircuitState, GuardedComplaintSource, GuardedLicensingSource, GuardedPopulationSource

if TYPE_CHECKING:
    from schema.types.application import Application
    from schema.types.complaint import Complaint

_GUARDED = (GuardedPopulationSource, GuardedLicensingSource, GuardedComplaintSource)


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

    @strawberry.field(description="A signed-in citizen's own permit applications, newest first, with their "
                      "status history and due dates; empty for anyone else.")
    async def applications(
        self, info: strawberry.Info
    ) -> list[Annotated[Application, strawberry.lazy("schema.types.application")]]:
        from schema.intake.fields import own_applications

        return await own_applications(info.context)  # type: ignore[return-value]

    @strawberry.field(description="A signed-in citizen's own complaints, newest first; empty for anyone else.")
    async def complaints(
        self, info: strawberry.Info
    ) -> list[Annotated[Complaint, strawberry.lazy("schema.types.complaint")]]:
        from schema.intake.fields import own_complaints

        return await own_complaints(info.context)  # type: ignore[return-value]

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
    state: str = strawberry.field(
        description="UP; DEGRADED (answering, but recent calls failed, or on trial after an "
        "open circuit); CIRCUIT_OPEN (not called for a while after repeated failures); "
        "DOWN (the health check failed)."
    )
    detail: str | None
    response_ms: float | None
    last_error: str | None = strawberry.field(default=None, description="The last failure the hub saw.")
    last_error_at: datetime | None = None
    last_success_at: datetime | None = None
    consecutive_failures: int = 0


#: a source that failed within this many seconds but answers its health check is DEGRADED
DEGRADED_WINDOW = 60.0


def _state(source: Source, *, up: bool, detail: str | None, response_ms: float | None) -> SourceState:
    detail = in_text(detail) if detail else detail  # a source's message may quote keys
    health = source.health() if isinstance(source, _GUARDED) else None
    if health is None:
        return SourceState(source=source.source_id, up=up, state="UP" if up else "DOWN",
                           detail=detail, response_ms=response_ms)
    if health.circuit is CircuitState.OPEN:
        state = "CIRCUIT_OPEN"
    elif not up:
        state = "DOWN"
    elif health.circuit is CircuitState.HALF_OPEN or (
        health.last_error_at is not None
        and (datetime.now(UTC) - health.last_error_at).total_seconds() < DEGRADED_WINDOW
    ):
        state = "DEGRADED"
    else:
        state = "UP"
    return SourceState(
        source=source.source_id,
        up=up,
        state=state,
        detail=detail,
        response_ms=response_ms,
        last_error=in_text(health.last_error) if health.last_error else None,
        last_error_at=health.last_error_at,
        last_success_at=health.last_success_at,
        consecutive_failures=health.consecutive_failures,
    )


async def probe(source: Source, *, timeout: float = 2.0) -> SourceState:
    """Checks a source; a guarded source with an open circuit is not called."""
    if isinstance(source, _GUARDED) and source.health().circuit is CircuitState.OPEN:
        retry_in = source.health().retry_in
        return _state(source, up=False, detail=f"circuit open: next trial in {retry_in:.0f} s", response_ms=None)
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            await source.check()
    except (ConnectorError, TimeoutError) as exc:
        detail = str(exc) or "no answer within the health-check timeout"
        return _state(source, up=False, detail=detail, response_ms=None)
    elapsed = round((time.perf_counter() - started) * 1000, 2)
    return _state(source, up=True, detail=None, response_ms=elapsed)


async def probe_all(sources: tuple[Source, ...]) -> list[SourceState]:
    return list(await asyncio.gather(*(probe(s) for s in sources)))
