"""The gate in front of every sample service: request counting, the API key, and
injected faults, in that order.

    /health        counted, no key, no faults
    /_admin/...    key required, not counted, no faults
    /api/...       counted, key required, then latency, `down` and random failures
"""

from __future__ import annotations

import asyncio
import hmac

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from demo.service_common.errors import API_KEY_INVALID, FAILURE, error_response
from demo.service_common.faults import Faults, RequestStats, route_template


class ServiceMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        api_key: str,
        faults: Faults,
        stats: RequestStats,
        routes: list[BaseRoute],
    ) -> None:
        self.app = app
        self._api_key = api_key.encode()
        self._faults = faults
        self._stats = stats
        self._routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        is_api = path.startswith("/api/")
        is_admin = path.startswith("/_admin/")
        if not is_admin:
            self._count(scope)
        if (is_api or is_admin) and not self._key_ok(scope):
            response = error_response(401, API_KEY_INVALID, "header X-API-Key tidak ada atau salah")
            await response(scope, receive, send)
            return
        if is_api:
            faults = self._faults
            if faults.latency_ms:
                await asyncio.sleep(faults.latency_ms / 1000)
            if faults.down:
                await error_response(503, FAILURE, "layanan sedang tidak tersedia")(scope, receive, send)
                return
            if faults.fails_now():
                await error_response(503, FAILURE, "gangguan (disuntikkan)")(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _key_ok(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"x-api-key":
                return hmac.compare_digest(value, self._api_key)
        return False

    def _count(self, scope: Scope) -> None:
        partial = None
        for route in self._routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                self._stats.count(scope["method"], route_template(getattr(route, "path", "?")))
                return
            if match is Match.PARTIAL and partial is None:
                partial = route
        if partial is not None:  # right path, wrong method
            self._stats.count(scope["method"], route_template(getattr(partial, "path", "?")))
