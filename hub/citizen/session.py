"""The citizen's session: a signed cookie (Starlette's SessionMiddleware, itsdangerous),
HttpOnly and SameSite=Lax (Lax, not Strict: the identity provider's redirect back to the
hub is a top-level navigation from another site and must carry the sign-in state), Secure
when the page is served over https, scoped to `/warga`. The session holds the resident's
NIK and `sub`, when they signed in, and the form token (CSRF) every form posts back.

Nothing of the session is ever put in a URL, and signing in replaces the whole session
(a cookie planted before sign-in carries nothing over)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request

from hub.citizen.settings import CitizenPageSettings
from hub.private_files import write_private

COOKIE = "simpul_warga"
COOKIE_PATH = "/warga"
SECRET_FILE = "citizen-session-secret"
CSRF_FIELD = "csrf"


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


@dataclass(frozen=True, slots=True)
class Resident:
    nik: str
    subject: str
    name: str | None


def sign_in(request: Request, *, nik: str, subject: str, name: str | None) -> None:
    """A new session for the resident (whatever the old one held is dropped)."""
    request.session.clear()
    request.session.update({"nik": nik, "sub": subject, "name": (name or "")[:100], "at": int(time.time()),
                            CSRF_FIELD: secrets.token_urlsafe(32)})


def signed_in(request: Request) -> Resident | None:
    nik, subject = request.session.get("nik"), request.session.get("sub")
    if not isinstance(nik, str) or not isinstance(subject, str):
        return None
    return Resident(nik=nik, subject=subject, name=request.session.get("name") or None)


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
