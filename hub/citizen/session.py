"""The citizen's session: a random session id in a signed cookie (Starlette's
SessionMiddleware, itsdangerous), the session itself in the hub store
(hub.citizen.session_store), so that signing out ends it on every instance.

The cookie is HttpOnly and SameSite=Lax (Lax, not Strict: the identity provider's
redirect back to the hub is a top-level navigation from another site and must carry the
sign-in state), Secure when the page is served over https, scoped to `/warga`. It holds
the session id, the form token (CSRF) every form posts back, and while signing in the
OpenID Connect state (state, nonce, PKCE verifier, where to go next): nothing personal.

`SessionLookup` reads the session from the store once per request, before the page runs:
a cookie whose session ended (signed out, idle too long, too old) is nobody, and loses
its id. Signing in replaces the whole cookie and the session (a cookie planted before
sign-in carries nothing over); nothing of the session is ever put in a URL."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.citizen.session_store import CitizenSessions, Resident
from hub.citizen.settings import CitizenPageSettings
from hub.private_files import write_private

log = logging.getLogger("simpul.citizen")

COOKIE = "simpul_warga"
COOKIE_PATH = "/warga"
SECRET_FILE = "citizen-session-secret"
CSRF_FIELD = "csrf"
SESSION_ID = "sid"
_RESIDENT = "simpul.citizen.resident"
_SESSIONS = "simpul.citizen.sessions"


def session_secret(settings: CitizenPageSettings, data_dir: Path) -> str:
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value()
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        write_private(path, secrets.token_urlsafe(48))
    return path.read_text().strip()


def session_middleware(settings: CitizenPageSettings, data_dir: Path) -> Middleware:
    return Middleware(
        SessionMiddleware,
        secret_key=session_secret(settings, data_dir),
        session_cookie=COOKIE,
        max_age=settings.session_seconds,
        path=COOKIE_PATH,
        same_site="lax",
        https_only=settings.secure_cookie,
    )


class SessionLookup:
    """Inside SessionMiddleware: the request's resident from the hub store (or nobody);
    503 SESSION_UNAVAILABLE when the store cannot be read."""

    def __init__(self, app: ASGIApp, *, sessions: CitizenSessions) -> None:
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            cookie = scope["session"]
            session_id = cookie.get(SESSION_ID)
            try:
                resident = await self.sessions.find(session_id) if session_id is not None else None
            except (SQLAlchemyError, OSError):
                log.warning("citizen page: the session store cannot be read", exc_info=True)
                await HTMLResponse(
                    '<!doctype html><html lang="id"><title>Tidak tersedia</title><p id="kode">SESSION_UNAVAILABLE'
                    '</p><p>Layanan sedang tidak tersedia. Coba lagi beberapa saat lagi.</p></html>',
                    status_code=503, headers={"Retry-After": "5", "Cache-Control": "no-store"},
                )(scope, receive, send)
                return
            if resident is None and session_id is not None:
                cookie.pop(SESSION_ID, None)  # ended: the browser drops it with the next answer
            scope[_RESIDENT] = resident
            scope[_SESSIONS] = self.sessions
        await self.app(scope, receive, send)


def _sessions(request: Request) -> CitizenSessions:
    sessions = request.scope.get(_SESSIONS)
    if not isinstance(sessions, CitizenSessions):
        raise RuntimeError("the citizen page runs inside SessionLookup")
    return sessions


async def sign_in(request: Request, *, nik: str, subject: str, name: str | None) -> None:
    """A new session for the resident, under a new id (whatever the old one held is
    dropped, and the old session ends)."""
    previous = request.session.get(SESSION_ID)
    request.session.clear()
    resident = Resident(nik=nik, subject=subject, name=(name or "")[:100] or None)
    session_id = await _sessions(request).start(resident, replacing=previous)
    request.session.update({SESSION_ID: session_id, CSRF_FIELD: secrets.token_urlsafe(32)})
    request.scope[_RESIDENT] = resident


async def sign_out(request: Request) -> None:
    """Ends the session in the store (every copy of the cookie with it), then empties the
    cookie (a store that cannot be written raises, and the browser stays signed in)."""
    await _sessions(request).end(request.session.get(SESSION_ID))
    request.session.clear()
    request.scope[_RESIDENT] = None


def signed_in(request: Request) -> Resident | None:
    resident = request.scope.get(_RESIDENT)
    return resident if isinstance(resident, Resident) else None


def csrf_token(request: Request) -> str:
    """The session's form token (made on first use, for the sign-in page's forms too)."""
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


def csrf_valid(request: Request, sent: object) -> bool:
    token = request.session.get(CSRF_FIELD)
    return isinstance(token, str) and isinstance(sent, str) and secrets.compare_digest(token, sent)


__all__ = ["COOKIE", "CSRF_FIELD", "Resident", "SessionLookup", "csrf_token", "csrf_valid", "session_middleware",
           "sign_in", "sign_out", "signed_in"]
