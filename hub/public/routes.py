"""The public transparency page: `/` (track a case, the latest performance report with
charts, the satisfaction index) and `/survei` (the satisfaction survey).

Pages are rendered on the server with Jinja2 (charts are HTML tables with CSS bars; no
framework, no CDN) and gzip-compressed. Report figures come from the public schema
in-process, as the anonymous caller, so the page shows exactly what `/graphql` shows the
public. Tracking (hub.public.tracking) is the form's GET, answered on the server; the
survey is a form post to `/survei`, with a little inline JavaScript on top. Times are
shown in the region's time zone, with its label (WIB).
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from importlib.resources import files
from typing import Any

from jinja2 import Environment as Templates
from jinja2 import PackageLoader, select_autoescape
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route, request_response
from starlette.types import ASGIApp

from auth.ledger import HeadCheckpoint
from connectors.errors import ConnectorError
from hub.public.executor import BuildView, Execute, PublicSchema, anonymous_executor
from hub.public.report import (
    SATISFACTION_QUERY,
    ReportPeriod,
    chosen_period,
    report_from,
    report_query,
    satisfaction_chart,
)
from hub.public.survey_form import DEMOGRAPHICS, QUESTIONS, SCALE, survey_input
from hub.public.tracking import track, tracking_request
from hub.public_limits import PAGE, SURVEY_FORM
from hub.ratelimit import EntryPointLimitMiddleware, Limiter
from hub.request_context import request_id_of
from schema.analytics.surveys import SurveyService
from schema.context import Environment
from schema.region import Region

log = logging.getLogger("simpul.public")

CACHE_SECONDS = 60.0
SUBMIT = ("mutation($i: SatisfactionSurveyInput!) { submitSatisfactionSurvey(input: $i) "
          "{ receiptNumber } }")


REPORT_PARAMETERS = ("bulan", "tahun")


def _templates(region: Region) -> Templates:
    templates = Templates(loader=PackageLoader("hub.public", "templates"),
                          autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    templates.filters["local_time"] = lambda moment: local_time(moment, region)
    return templates


def local_time(moment: datetime | str | None, region: Region) -> str:
    """A moment as the region's residents read it: `2025-03-04 10:12 WIB`. A time without
    a zone is taken as UTC (the hub's own clocks); text that is not a time is shown as is."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{moment.astimezone(region.zone):%Y-%m-%d %H:%M} {region.time_zone_label}"


def _favicon() -> Response:
    icon = files("hub.public").joinpath("static/favicon.svg").read_bytes()
    return Response(icon, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


def _headers(nonce: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; "
            "connect-src 'self'; form-action 'self'; img-src 'self'; base-uri 'none'; "
            "frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }


class _Figures:
    """The page's report and index per period, kept a minute (figures change slowly)."""

    def __init__(self, execute: Execute, public: PublicSchema,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._execute = execute
        self._public = public
        self._clock = clock
        self._cache: dict[tuple[ReportPeriod, date], tuple[float, dict[str, Any]]] = {}

    async def for_period(self, period: ReportPeriod, index_until: date, request_id: str) -> dict[str, Any]:
        key = (period, index_until)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        figures = {"report": await self._report(period, request_id),
                   "satisfaction": await self._satisfaction(index_until, request_id)}
        report = figures["report"]
        if report.available and report.as_of is None:
            return figures  # the hub's first refresh of its metrics is still running: ask again next time
        if len(self._cache) > 64:
            self._cache.clear()
        self._cache[key] = (self._clock() + CACHE_SECONDS, figures)
        return figures

    async def _report(self, period: ReportPeriod, request_id: str) -> Any:
        query = None
        if self._public.has_root_field("performanceReport"):
            query = report_query(self._public.root_field_arguments("performanceReport"), period)
        if query is None:
            return report_from(None, period)
        body = await self._execute(query, None, request_id, None)
        if body.get("errors") and not body.get("data"):
            log.info("public page: performanceReport unavailable: %s", body["errors"][0].get("message"))
        return report_from(body.get("data"), period)

    async def _satisfaction(self, until: date, request_id: str) -> dict[str, Any] | None:
        """The index of the 365 days up to `until`."""
        if not self._public.has_root_field("satisfactionIndex"):
            return None
        window = {"from": (until - timedelta(days=364)).isoformat(), "to": until.isoformat()}
        body = await self._execute(SATISFACTION_QUERY, {"period": window}, request_id, None)
        return (body.get("data") or {}).get("satisfactionIndex")


def public_routes(
    build_view: BuildView,
    env: Environment,
    limiter: Limiter | None = None,
    *,
    ledger_checkpoint: Callable[[], HeadCheckpoint | None] = lambda: None,
) -> list[Route]:
    """`/` and `/survei`, for the hub's route list; `build_view(roles)` is the hub's
    GraphQL view builder (the public page uses the anonymous role's schema). With a
    `limiter`, each route counts every request per address (`page`, `survey_form`).
    `ledger_checkpoint()` is the latest signed head of the access ledger, shown on `/`."""
    templates = _templates(env.region)
    public = PublicSchema(build_view)
    execute = anonymous_executor(public, env)
    figures = _Figures(execute, public)
    office = f"Kantor Camat {env.region.name}, {env.region.city}"

    def render(name: str, **values: Any) -> HTMLResponse:
        nonce = secrets.token_urlsafe(12)
        html = templates.get_template(name).render(office=office, nonce=nonce, **values)
        return HTMLResponse(html, headers=_headers(nonce))

    async def index(request: Request) -> HTMLResponse:
        params = dict(request.query_params)
        today = env.today()
        period = chosen_period(params, today=today)
        # the index of the last 365 days; of the 365 days up to a period asked for
        asked_period = any(name in params for name in REPORT_PARAMETERS)
        until = min(period.last, today) if asked_period else today
        request_id = request_id_of(request.scope)
        tracked = None
        wanted = tracking_request(params)
        if wanted is not None:
            address = request.client.host if request.client else None
            tracked = await track(execute, *wanted, request_id, address)
        found = await figures.for_period(period, until, request_id)
        previous = period.first - timedelta(days=1)
        satisfaction = found["satisfaction"]
        return render("index.html", report=found["report"], satisfaction=satisfaction,
                      satisfaction_chart=satisfaction_chart(satisfaction),
                      previous=f"{previous.year}-{previous.month:02d}",
                      ledger=ledger_checkpoint(), tracked=tracked)

    async def services() -> list[SurveyService]:
        surveys = env.surveys
        if surveys is None:
            return []
        try:
            return await surveys.services(env.sources.licensing.permit_types)  # type: ignore[no-any-return]
        except ConnectorError:
            return surveys.other_services()  # type: ignore[no-any-return]

    async def survey_page(request: Request, *, values: dict[str, str] | None = None,
                          error: str | None = None, receipt: dict[str, Any] | None = None,
                          status_code: int = 200) -> HTMLResponse:
        response = render("survey.html", services=await services(), questions=QUESTIONS, scale=SCALE,
                          demographics=DEMOGRAPHICS, key=secrets.token_urlsafe(16),
                          values=values or {}, error=error, receipt=receipt)
        response.status_code = status_code
        return response

    async def survey(request: Request) -> HTMLResponse:
        if request.method == "GET":
            return await survey_page(request)
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        data = survey_input(form)
        if isinstance(data, str):
            return await survey_page(request, values=form, error=data, status_code=400)
        address = request.client.host if request.client else None
        body = await execute(SUBMIT, {"i": data}, request_id_of(request.scope), address)
        receipt = (body.get("data") or {}).get("submitSatisfactionSurvey")
        if receipt is None:
            error = (body.get("errors") or [{}])[0]
            message = error.get("message") or "Jawaban tidak dapat disimpan."
            extensions = error.get("extensions") or {}
            if extensions.get("code") != "RATE_LIMITED":
                return await survey_page(request, values=form, error=message, status_code=400)
            page = await survey_page(request, values=form, error=message, status_code=429)
            page.headers["Retry-After"] = str(extensions.get("retryAfter", 1))
            return page
        return await survey_page(request, receipt=receipt)

    def limited(app: ASGIApp, name: str) -> ASGIApp:
        return app if limiter is None else EntryPointLimitMiddleware(app, limiter=limiter, name=name)

    icon = _favicon()

    async def favicon(request: Request) -> Response:
        return icon

    return [
        Route("/favicon.svg", favicon, methods=["GET", "HEAD"]),
        Route("/favicon.ico", favicon, methods=["GET", "HEAD"]),
        Route("/", limited(GZipMiddleware(request_response(index), minimum_size=500), PAGE),
              methods=["GET", "HEAD"]),
        Route("/survei", limited(GZipMiddleware(request_response(survey), minimum_size=500), SURVEY_FORM),
              methods=["GET", "HEAD", "POST"]),
    ]
