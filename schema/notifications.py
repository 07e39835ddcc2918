"""A citizen's choice about notifications (SMS/WhatsApp through the hub's notification
gateway) on changes of their applications and complaints."""

from __future__ import annotations

from typing import Protocol

import strawberry
from strawberry.types import Info

from schema.context import Context
from schema.errors import Forbidden, ServiceUnavailable


class NotificationPreferences(Protocol):
    async def enabled(self, nik: str) -> bool: ...

    async def set(self, nik: str, enabled: bool) -> bool: ...


def _nik(ctx: Context) -> str:
    nik = ctx.principal.nik
    if nik is None:
        raise Forbidden("notifications are a citizen's own choice (a token with a NIK)")
    return nik


def _citizen(ctx: Context) -> tuple[NotificationPreferences, str]:
    nik = _nik(ctx)
    preferences = ctx.env.notifications
    if preferences is None:
        raise ServiceUnavailable("notifications", "Notifications are not configured on this hub")
    return preferences, nik


@strawberry.type
class NotificationQuery:
    @strawberry.field(description="Whether you get notifications when your applications and complaints change "
                      "(on unless you turned them off).")
    async def notifications_enabled(self, info: Info[Context, None]) -> bool:
        ctx = info.context
        if ctx.env.notifications is None:  # nothing is sent on this hub
            _ = _nik(ctx)
            return False
        preferences, nik = _citizen(ctx)
        return await preferences.enabled(nik)


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(description="Turn notifications about your applications and complaints on or off; "
                         "returns the setting now.")
    async def set_notifications(self, info: Info[Context, None], enabled: bool) -> bool:
        preferences, nik = _citizen(info.context)
        return await preferences.set(nik, enabled)
