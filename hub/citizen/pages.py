"""The citizen page's routes (mounted at `/warga`), in Bahasa Indonesia, rendered on the
server with no script at all:

    GET  /                 "Permohonan saya" (signed in) or the sign-in invitation
    GET  /ajukan[?jenis=]  "Ajukan permohonan": the permit types; one type's requirements
                           and its upload form
    POST /ajukan           submitApplication with the chosen documents -> the receipt
    GET  /permohonan?nomor=   one application: status, history, due date, what is missing
                              (`baru=1`: shown as the receipt)
    POST /lengkapi         completeApplication with the missing documents
    GET  /masuk, /masuk/selesai, POST /keluar: signing in and out (hub.citizen.signin)

Every POST needs the session's form token (`csrf`, else 403 CSRF_INVALID) and a signed-in
resident (else 401 SESSION_EXPIRED; a session signed out, idle or too old is none:
hub.citizen.session). Each form carries an idempotency key (`kunci`) made
when the form was drawn: sending it twice, or again after a dropped connection, gives the
same application. Operations run as the resident through the citizen schema
(hub.citizen.executor); what the page shows is what the schema answered."""

from __future__ import annotations

import logging
import secrets
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment as Templates
from jinja2 import PackageLoader, select_autoescape
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import FormData
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, Router
from starlette.types import ASGIApp

from hub.citizen.executor import CitizenExecute, citizen_principal
from hub.citizen.forms import FormRefused, documents, problems_of, read_form, text
from hub.citizen.session import (CSRF_FIELD, Resident, SessionLookup, csrf_token, csrf_valid, session_middleware,
                                 sign_out, signed_in)
from hub.citizen.session_store import CitizenSessions
from hub.citizen.settings import CitizenPageSettings
from hub.citizen.signin import NEXT_KEY, SignIn, SignInFailed
from hub.public.routes import local_time
from hub.public_limits import PAGE
from hub.ratelimit import EntryPointLimitMiddleware, Limiter
from hub.request_context import request_id_of
from schema.context import Environment

log = logging.getLogger("simpul.citizen")

MOUNT = "/warga"
UPLOAD_PATHS = (f"{MOUNT}/ajukan", f"{MOUNT}/lengkapi")  # the multipart posts (hub.body_limit)

PERMIT_TYPES = ("{ permitTypes { code name serviceLevelDays requirements { code name mandatory acceptedTypes "
                "maxBytes } } }")
APPLICATION_FIELDS = ("number status statusLabel { id } permitType { code name } receivedAt dueDate overdue "
                      "finishedAt kelurahan { name } businessAddress "
                      "history { statusLabel { id } at note } requirements { code name fulfilled requested }")
MINE = f"{{ me {{ applications {{ {APPLICATION_FIELDS} }} }} }}"
SUBMIT = (f"mutation($i: ApplicationInput!, $d: [DocumentInput!], $k: String!) {{ submitApplication(input: $i, "
          f"documents: $d, idempotencyKey: $k) {{ number }} }}")
COMPLETE = ("mutation($n: String!, $d: [DocumentInput!]!, $k: String!) { completeApplication(number: $n, "
            "documents: $d, idempotencyKey: $k) { number } }")
TYPE_NAMES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}

HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                                "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _templates(env: Environment) -> Templates:
    templates = Templates(loader=PackageLoader("hub.citizen", "templates"), autoescape=select_autoescape(),
                          trim_blocks=True, lstrip_blocks=True)
    templates.filters["local_time"] = lambda moment: local_time(moment, env.region)
    templates.filters["megabytes"] = lambda size: f"{size / (1024 * 1024):g} MB"
    templates.filters["type_names"] = lambda types: ", ".join(TYPE_NAMES.get(t, t) for t in types)
    return templates


class CitizenPages:
    def __init__(self, execute: CitizenExecute, env: Environment, sign: SignIn) -> None:
        self.execute = execute
        self.env = env
        self.sign = sign
        self.templates = _templates(env)
        self.kelurahan = sorted(((code, info.name) for code, info in env.region.kelurahan.items()),
                                key=lambda item: item[1])

    # -- plumbing ------------------------------------------------------------------

    def render(self, request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        resident = signed_in(request)
        html = self.templates.get_template(name).render(
            resident=resident, csrf=csrf_token(request), csrf_field=CSRF_FIELD, **values)
        return HTMLResponse(html, status_code=status, headers=HEADERS)

    def refused(self, request: Request, code: str, message: str, status: int) -> HTMLResponse:
        return self.render(request, "ditolak.html", status, code=code, message=message)

    async def run(self, request: Request, resident: Resident, query: str,
                  variables: dict[str, Any] | None = None) -> dict[str, Any]:
        address = request.client.host if request.client else None
        return await self.execute(citizen_principal(resident.subject, resident.nik), query, variables,
                                  request_id_of(request.scope), address)

    def _sign_in_first(self, request: Request) -> Response:
        wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{MOUNT}/masuk?{urlencode({NEXT_KEY: wanted.split('?')[0]})}", status_code=303)

    async def _posted(self, request: Request) -> tuple[Resident, FormData] | Response:
        """The signed-in resident and their form, its token checked; or the refusal page."""
        resident = signed_in(request)
        if resident is None:
            return self.refused(request, "SESSION_EXPIRED", "Sesi Anda telah berakhir. Silakan masuk lagi; "
                                "isian formulir perlu diisi ulang.", 401)
        try:
            form = await read_form(request)
        except FormRefused as exc:
            return self.refused(request, exc.code, exc.message, exc.status)
        if not csrf_valid(request, form.get(CSRF_FIELD)):
            await form.close()
            return self.refused(request, "CSRF_INVALID", "Formulir ini tidak berasal dari halaman ini atau sudah "
                                "kedaluwarsa. Buka halaman lagi lalu kirim ulang.", 403)
        return resident, form

    # -- pages -----------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        resident = signed_in(request)
        if resident is None:
            return self.render(request, "masuk.html")
        body = await self.run(request, resident, MINE)
        code, problems = problems_of(body)
        mine = (((body.get("data") or {}).get("me") or {}).get("applications")) or []
        mine.sort(key=lambda a: a.get("receivedAt") or "", reverse=True)
        return self.render(request, "saya.html", applications=mine, problems=problems, code=code)

    async def _permit_types(self, request: Request, resident: Resident) -> tuple[list[dict[str, Any]], list[str]]:
        body = await self.run(request, resident, PERMIT_TYPES)
        _, problems = problems_of(body)
        return ((body.get("data") or {}).get("permitTypes") or []), problems

    async def apply_form(self, request: Request) -> Response:
        resident = signed_in(request)
        if resident is None:
            return self._sign_in_first(request)
        return await self._apply_page(request, resident, {"jenis": request.query_params.get("jenis", "")[:20]})

    async def _apply_page(self, request: Request, resident: Resident, values: dict[str, str], *,
                          problems: list[str] | None = None, code: str | None = None,
                          status: int = 200) -> Response:
        types, load_problems = await self._permit_types(request, resident)
        chosen = next((t for t in types if t["code"] == values.get("jenis")), None)
        values = {**values, "kunci": values.get("kunci") or secrets.token_urlsafe(18)}
        return self.render(request, "ajukan.html", status, types=types, chosen=chosen, values=values,
                           kelurahan=self.kelurahan, problems=[*(problems or ()), *load_problems], code=code)

    async def apply(self, request: Request) -> Response:
        posted = await self._posted(request)
        if isinstance(posted, Response):
            return posted
        resident, form = posted
        try:
            values = {name: text(form, name) for name in ("jenis", "kelurahan", "alamat", "kunci")}
            if not values["jenis"] or not values["kelurahan"]:
                return await self._apply_page(request, resident, values, code="INCOMPLETE_FORM", status=400,
                                              problems=["Pilih jenis izin dan kelurahan."])
            variables = {"i": {"permitType": values["jenis"], "kelurahan": values["kelurahan"],
                               "businessAddress": values["alamat"] or None},
                         "d": documents(form), "k": values["kunci"] or secrets.token_urlsafe(18)}
            body = await self.run(request, resident, SUBMIT, variables)
        finally:
            await form.close()
        created = (body.get("data") or {}).get("submitApplication")
        if created is None:
            code, problems = problems_of(body)
            if code == "IDEMPOTENCY_KEY_REUSED":
                values["kunci"] = ""  # a new form: a new key
            return await self._apply_page(request, resident, values, problems=problems, code=code, status=400)
        return RedirectResponse(f"{MOUNT}/permohonan?{urlencode({'nomor': created['number'], 'baru': '1'})}",
                                status_code=303)

    async def _application(self, request: Request, resident: Resident, number: str) -> dict[str, Any] | None:
        body = await self.run(request, resident, MINE)
        mine = (((body.get("data") or {}).get("me") or {}).get("applications")) or []
        return next((a for a in mine if a["number"] == number), None)

    async def application(self, request: Request) -> Response:
        resident = signed_in(request)
        if resident is None:
            return self._sign_in_first(request)
        return await self._application_page(request, resident, request.query_params.get("nomor", "")[:60],
                                            flag=request.query_params.get("baru") or request.query_params.get(
                                                "lengkap"), completed=bool(request.query_params.get("lengkap")))

    async def _application_page(self, request: Request, resident: Resident, number: str, *, flag: str | None = None,
                                completed: bool = False, problems: list[str] | None = None,
                                code: str | None = None, status: int = 200) -> Response:
        found = await self._application(request, resident, number)
        if found is None:
            return self.refused(request, "NOT_FOUND", "Permohonan dengan nomor ini tidak ditemukan di antara "
                                "permohonan Anda.", 404)
        requested = [r for r in found.get("requirements") or () if r.get("requested")]
        if requested:  # the accepted types and size limits of what is asked for
            types, _ = await self._permit_types(request, resident)
            rules = {r["code"]: r for t in types if t["code"] == (found.get("permitType") or {}).get("code")
                     for r in t["requirements"]}
            requested = [{**r, **rules.get(r.get("code"), {})} for r in requested]
        return self.render(request, "permohonan.html", status, application=found, receipt=bool(flag) and not completed,
                           completed=completed, requested=requested, problems=problems or [], code=code,
                           key=secrets.token_urlsafe(18))

    async def complete(self, request: Request) -> Response:
        posted = await self._posted(request)
        if isinstance(posted, Response):
            return posted
        resident, form = posted
        number = text(form, "nomor", 60)
        try:
            variables = {"n": number, "d": documents(form), "k": text(form, "kunci") or secrets.token_urlsafe(18)}
            body = await self.run(request, resident, COMPLETE, variables)
        finally:
            await form.close()
        if (body.get("data") or {}).get("completeApplication") is None:
            code, problems = problems_of(body)
            if code == "NOT_FOUND":
                return self.refused(request, code, problems[0], 404)
            return await self._application_page(request, resident, number, problems=problems, code=code, status=400)
        return RedirectResponse(f"{MOUNT}/permohonan?{urlencode({'nomor': number, 'lengkap': '1'})}", status_code=303)

    # -- signing in and out --------------------------------------------------------------

    async def sign_in(self, request: Request) -> Response:
        try:
            return await self.sign.start(request)
        except SignInFailed as exc:
            return self.refused(request, exc.code, exc.message, exc.status)

    async def signed_in_back(self, request: Request) -> Response:
        try:
            return await self.sign.finish(request)
        except SignInFailed as exc:
            return self.refused(request, exc.code, exc.message, exc.status)

    async def sign_out(self, request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=5)
        if not csrf_valid(request, form.get(CSRF_FIELD)):
            return self.refused(request, "CSRF_INVALID", "Formulir ini tidak berasal dari halaman ini atau sudah "
                                "kedaluwarsa. Buka halaman lagi lalu kirim ulang.", 403)
        try:
            await sign_out(request)
        except SQLAlchemyError:
            log.warning("citizen page: a session could not be ended", exc_info=True)
            return self.refused(request, "SESSION_UNAVAILABLE", "Keluar belum berhasil: layanan sedang tidak "
                                "tersedia. Coba lagi beberapa saat lagi.", 503)
        return RedirectResponse(f"{MOUNT}/", status_code=303)


def citizen_mount(settings: CitizenPageSettings, data_dir: Any, execute: CitizenExecute, env: Environment,
                  sessions: CitizenSessions, limiter: Limiter | None = None) -> Mount:
    """`/warga`, its sessions in the hub store (`sessions`); with a `limiter`, every
    request counts against the page limit of its address (`page`, as the public page's:
    hub.public_limits)."""
    pages = CitizenPages(execute, env, SignIn(settings))
    app: ASGIApp = Router(routes=[
        Route("/", pages.home, methods=["GET", "HEAD"]),
        Route("/ajukan", pages.apply_form, methods=["GET", "HEAD"]),
        Route("/ajukan", pages.apply, methods=["POST"]),
        Route("/permohonan", pages.application, methods=["GET", "HEAD"]),
        Route("/lengkapi", pages.complete, methods=["POST"]),
        Route("/masuk", pages.sign_in, methods=["GET"]),
        Route("/masuk/selesai", pages.signed_in_back, methods=["GET"]),
        Route("/keluar", pages.sign_out, methods=["POST"]),
    ])
    session = session_middleware(settings, data_dir)
    app = session.cls(SessionLookup(GZipMiddleware(app, minimum_size=500), sessions=sessions), *session.args,
                      **session.kwargs)
    if limiter is not None:
        app = EntryPointLimitMiddleware(app, limiter=limiter, name=PAGE)
    return Mount(MOUNT, app=app)
