"""Per-caller limits on the public operations, counted in their resolvers: each
tracking look-up, complaint and survey answer counts, so that aliases cannot multiply
what one request may do. The hub supplies the counter (`Environment.quota`, shared
between instances through Redis when configured); without one nothing is limited.

A caller past a limit gets `RATE_LIMITED` with `extensions.retryAfter` (seconds); the
hub answers such a response with HTTP 429 and `Retry-After`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Protocol

from auth.principal import Principal
from schema.errors import RateLimited

if TYPE_CHECKING:
    from schema.context import Context

TRACKING = "tracking"  # trackApplication, trackComplaint
SUBMIT_COMPLAINT = "submitComplaint"
SUBMIT_SURVEY = "submitSatisfactionSurvey"
ANONYMOUS_SURVEY = "anonymousSurvey"  # survey answers without an application, per local day


class Quota(Protocol):
    async def take(self, name: str, principal: Principal, address: str | None) -> float | None:
        """Count one use of `name` by this caller: None when allowed, else seconds to wait."""
        ...


async def spend(ctx: Context, name: str, *, what: str) -> None:
    """Count one use of `name` by the request's caller, or raise `RateLimited`."""
    quota: Quota | None = ctx.env.quota
    if quota is None:
        return
    wait = await quota.take(name, ctx.principal, ctx.address)
    if wait is not None:
        seconds = max(1, math.ceil(wait))
        raise RateLimited(f"Too many {what}; try again in {seconds} s", details={"retryAfter": seconds})
