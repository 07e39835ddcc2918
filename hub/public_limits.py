"""The public entry points' limits (settings `rate_limits.public`) over the hub's
counter: the routes' own (`page`, `surveyForm`, `token`, `sourceHook`, counted per request by
`EntryPointLimitMiddleware`), the public operations' (`schema.quota`, counted per use in
their resolvers), and failed client authentications at `/oauth/token`.

Failed client authentications are counted per client id and per address; a request
from either past its limit is refused before its secret is hashed, so a flood of wrong
secrets costs the hub no scrypt work, and the `token` limit (every request, per
address) bounds the scrypt work one address can cause at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from auth.principal import ANONYMOUS, Principal
from hub.ratelimit import Counter, Limit, Limiter, TooManyRequests, caller_key
from hub.settings import LimitSettings, PublicLimitSettings
from schema.quota import ANONYMOUS_SURVEY, SUBMIT_COMPLAINT, SUBMIT_SURVEY, TRACKING

JAKARTA = ZoneInfo("Asia/Jakarta")

PAGE = "page"
SURVEY_FORM = "surveyForm"
TOKEN = "token"
SOURCE_HOOK = "sourceHook"
FAILED_BY_CLIENT = "failedAuthByClient"
FAILED_BY_ADDRESS = "failedAuthByAddress"


def public_limiter(counter: Counter, settings: PublicLimitSettings) -> Limiter:
    def limit(given: LimitSettings) -> Limit:
        return Limit(given.requests, given.window_seconds)

    return Limiter(counter, {
        PAGE: limit(settings.page),
        SURVEY_FORM: limit(settings.survey_form),
        TOKEN: limit(settings.token),
        SOURCE_HOOK: limit(settings.source_hook),
        TRACKING: limit(settings.tracking),
        SUBMIT_COMPLAINT: limit(settings.submit_complaint),
        SUBMIT_SURVEY: limit(settings.submit_survey),
        FAILED_BY_CLIENT: limit(settings.failed_auth_per_client),
        FAILED_BY_ADDRESS: limit(settings.failed_auth_per_address),
    })


class PublicQuota:
    """`schema.quota.Quota` over the limiter. Answers without an application number
    (`anonymousSurvey`) are counted per local day: the day is part of the key and the
    window ends at the next local midnight."""

    def __init__(self, limiter: Limiter, *, anonymous_surveys_per_day: int,
                 now: Callable[[], datetime] = lambda: datetime.now(JAKARTA)) -> None:
        self._limiter = limiter
        self._per_day = anonymous_surveys_per_day
        self._now = now

    async def take(self, name: str, principal: Principal, address: str | None) -> float | None:
        who = caller_key(principal, address)
        if name != ANONYMOUS_SURVEY:
            return await self._limiter.take(name, who)
        now = self._now()
        midnight = datetime.combine(now.date() + timedelta(days=1), time(), now.tzinfo)
        day = Limit(self._per_day, (midnight - now).total_seconds())
        return await self._limiter.take(name, who, limit=day, bucket=f"{now.date().isoformat()}:")


class ClientAuthLimits:
    """`auth.oauth.ClientAuthGuard`: failed client authentications per client id and per
    address. Every client id counts alike, known or not, so the answers do not tell
    which ids exist."""

    def __init__(self, limiter: Limiter) -> None:
        self._limiter = limiter

    async def admit(self, request: Request, client_id: str | None) -> Response | None:
        waits = [await self._limiter.over(FAILED_BY_ADDRESS, _address(request))]
        if client_id is not None:
            waits.append(await self._limiter.over(FAILED_BY_CLIENT, client_id))
        wait = max((w for w in waits if w is not None), default=None)
        return None if wait is None else TooManyRequests(wait)

    async def failed(self, request: Request, client_id: str | None) -> None:
        await self._limiter.take(FAILED_BY_ADDRESS, _address(request))
        if client_id is not None:
            await self._limiter.take(FAILED_BY_CLIENT, client_id)


def _address(request: Request) -> str:
    return caller_key(ANONYMOUS, request.client.host if request.client else None)
