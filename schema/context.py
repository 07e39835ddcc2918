"""What every resolver can reach: the request's principal, loaders and trace, and the
schema's environment (region, calendar, limits). Built once per operation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from auth.principal import Principal
from connectors.workdays import WorkCalendar
from schema.loaders import Loaders
from schema.region import Region
from schema.sources import Sources
from schema.trace import SourceTrace

JAKARTA = ZoneInfo("Asia/Jakarta")


def _today() -> date:
    from datetime import datetime

    return datetime.now(JAKARTA).date()


@dataclass(frozen=True, slots=True)
class Environment:
    """Start-up configuration the resolvers need; shared by all requests."""

    sources: Sources
    region: Region
    calendar: WorkCalendar
    max_page_size: int = 100
    default_page_size: int = 20
    trace_sources: bool = False  # `extensions.sources` on every response
    today: Callable[[], date] = _today


@dataclass(slots=True)
class Context:
    env: Environment
    principal: Principal
    loaders: Loaders
    trace: SourceTrace
    request_id: str
    purpose: str | None = None
    case: str | None = None
    request: Any = None
    response: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        env: Environment,
        principal: Principal,
        *,
        request_id: str,
        purpose: str | None = None,
        case: str | None = None,
        request: Any = None,
        response: Any = None,
    ) -> Context:
        trace = SourceTrace()
        return cls(
            env=env,
            principal=principal,
            loaders=Loaders.create(env.sources, trace),
            trace=trace,
            request_id=request_id,
            purpose=purpose,
            case=case,
            request=request,
            response=response,
        )
