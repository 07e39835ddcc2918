"""`/health` and the `/_admin/...` endpoints shared by both services."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from demo.service_common.bodies import StrictBody, parse_body
from demo.service_common.errors import JSONResponse, bad_request
from demo.service_common.faults import Faults, RequestStats


class FaultsBody(StrictBody):
    latency_ms: Annotated[int, Field(ge=0, le=600_000)] | None = None
    failure_rate: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    down: bool | None = None
    # null clears it; absent leaves it as it is
    upload_fail_after: Annotated[int, Field(ge=0, le=1000)] | None = None


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def get_faults(request: Request) -> Response:
    faults: Faults = request.app.state.faults
    return JSONResponse(faults.as_dict())


async def set_faults(request: Request) -> Response:
    faults: Faults = request.app.state.faults
    body = await parse_body(request, FaultsBody)
    try:
        faults.update(
            latency_ms=body.latency_ms,
            failure_rate=body.failure_rate,
            down=body.down,
            upload_fail_after=body.upload_fail_after,
            clear_upload_fault="upload_fail_after" in body.model_fields_set and body.upload_fail_after is None,
        )
    except ValueError as exc:
        raise bad_request(str(exc)) from exc
    return JSONResponse(faults.as_dict())


async def get_stats(request: Request) -> Response:
    stats: RequestStats = request.app.state.stats
    return JSONResponse(stats.as_dict())


def admin_routes() -> list[Route]:
    return [
        Route("/health", health, methods=["GET"]),
        Route("/_admin/faults", get_faults, methods=["GET"]),
        Route("/_admin/faults", set_faults, methods=["POST"]),
        Route("/_admin/stats", get_stats, methods=["GET"]),
    ]
