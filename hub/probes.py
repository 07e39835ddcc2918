"""`/healthz` (the process answers) and `/readyz` (each source's state)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse

from schema.sources import Sources
from schema.types.system import probe_all

Endpoint = Callable[[Request], Awaitable[JSONResponse]]


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def readyz(sources: Sources) -> Endpoint:
    async def endpoint(request: Request) -> JSONResponse:
        states = await probe_all(sources.all())
        ready = all(state.up for state in states)
        body = {
            "status": "ready" if ready else "degraded",
            "sources": [
                {
                    "source": s.source,
                    "state": s.state,
                    "detail": s.detail,
                    "responseMs": s.response_ms,
                    "lastError": s.last_error,
                    "lastErrorAt": _iso(s.last_error_at),
                    "lastSuccessAt": _iso(s.last_success_at),
                }
                for s in states
            ],
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    return endpoint


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
