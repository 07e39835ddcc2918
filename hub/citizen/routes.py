"""The citizen page's routes for the hub's route list: `/warga` when `[citizen]
enabled`, and the development identity provider at `/dev-idp` when asked for (and
allowed: hub.citizen.dev_idp)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import BaseRoute

from hub.citizen.dev_idp import DevelopmentIdp
from hub.citizen.settings import check_allowed
from hub.citizen.executor import citizen_executor
from hub.citizen.pages import citizen_mount
from hub.citizen.session_store import CitizenSessions
from hub.public.executor import BuildView
from hub.ratelimit import Limiter
from hub.settings import Settings
from schema.context import Environment


def citizen_routes(settings: Settings, build_view: BuildView, env: Environment, store: AsyncEngine,
                   limiter: Limiter | None = None) -> list[BaseRoute]:
    citizen = settings.citizen
    if not citizen.enabled:
        return []
    check_allowed(citizen, development=settings.issuer.development, host=settings.host)
    sessions = CitizenSessions(store, absolute_seconds=citizen.session_seconds,
                               idle_seconds=citizen.session_idle_seconds)
    routes: list[BaseRoute] = [citizen_mount(citizen, settings.data_dir, citizen_executor(build_view, env), env,
                                             sessions, limiter)]
    if citizen.development_idp:
        routes.append(DevelopmentIdp(citizen, env).routes())
    return routes
