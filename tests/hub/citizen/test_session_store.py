"""Citizen sessions live in the hub store: signing out ends every copy of the cookie on
every instance sharing the store; a session ends when idle or too old; a new id at every
sign-in; the cookie carries nothing personal, the store no usable id."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from pathlib import Path

import itsdangerous
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from hub.citizen.dev_idp import demo_citizen_settings
from hub.citizen.session import COOKIE, SessionLookup, session_middleware, sign_in, sign_out, signed_in
from hub.citizen.session_store import CitizenSessions, Resident
from hub.citizen.tables import sessions_table
from hub.store import create_store_engine, create_tables
from tests.support.pg_database import hub_store_url

NIK = "1471084505150004"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated hub store that instances share."""
    with hub_store_url(request.param, tmp_path, "simpul_sessions") as url:
        async def migrate() -> None:
            engine = create_store_engine(url)
            await create_tables(engine)
            await engine.dispose()

        asyncio.run(migrate())
        yield url


@pytest.fixture
async def engine(store_url: str) -> AsyncIterator[AsyncEngine]:
    async with AsyncExitStack() as stack:
        engine = create_store_engine(store_url)
        stack.push_async_callback(engine.dispose)
        yield engine


def _instance(store_url: str, data_dir: Path) -> Starlette:
    """One hub instance's citizen session machinery, with pages that sign in, out and say who."""
    engine = create_store_engine(store_url)

    async def enter(request: Request) -> Response:
        await sign_in(request, nik=NIK, subject="sub-1", name="Siti")
        return PlainTextResponse("in")

    async def leave(request: Request) -> Response:
        await sign_out(request)
        return PlainTextResponse("out")

    async def who(request: Request) -> Response:
        resident = signed_in(request)
        return PlainTextResponse(resident.nik if resident else "nobody", status_code=200 if resident else 401)

    async def plant(request: Request) -> Response:
        request.session["sid"] = request.query_params["sid"]
        return PlainTextResponse("planted")

    sessions = CitizenSessions(engine, absolute_seconds=3600, idle_seconds=600)
    settings = demo_citizen_settings("http://testserver")
    session = session_middleware(settings, data_dir)
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    return Starlette(lifespan=lifespan, routes=[Route("/warga/in", enter), Route("/warga/out", leave, methods=["POST"]),
                             Route("/warga/who", who), Route("/warga/plant", plant)],
                     middleware=[session, Middleware(SessionLookup, sessions=sessions)])


@contextmanager
def two_instances(store_url: str, data_dir: Path) -> Iterator[tuple[TestClient, TestClient]]:
    first, second = _instance(store_url, data_dir), _instance(store_url, data_dir)
    with TestClient(first) as a, TestClient(second) as b:
        yield a, b


def _cookie_of(client: TestClient) -> str:
    return client.cookies[COOKIE]


def test_a_copied_cookie_stops_working_on_every_instance_once_signed_out(store_url: str,
                                                                          tmp_path: Path) -> None:
    with two_instances(store_url, tmp_path) as (a, b):
        assert a.get("/warga/in").text == "in"
        copied = _cookie_of(a)
        b.cookies.set(COOKIE, copied)  # the cookie, stolen or copied to another browser
        assert b.get("/warga/who").text == NIK  # the other instance knows the session
        assert a.post("/warga/out").text == "out"
        assert a.get("/warga/who").status_code == 401
        answer = b.get("/warga/who")
        assert answer.status_code == 401 and answer.text == "nobody"
        # and the ended id is dropped from the copy's cookie
        assert "sid" not in _decoded(answer.cookies.get(COOKIE) or "e30.x.y")


def _decoded(cookie: str) -> dict:
    payload = cookie.split(".")[0]
    return json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))


def test_the_cookie_carries_nothing_personal(store_url: str,
                                              tmp_path: Path) -> None:
    with two_instances(store_url, tmp_path) as (a, _):
        a.get("/warga/in")
        cookie = _decoded(_cookie_of(a))
        assert set(cookie) == {"sid", "csrf"} and NIK not in json.dumps(cookie) and "Siti" not in json.dumps(cookie)


async def test_the_store_holds_only_the_hash_of_a_session_id(engine: AsyncEngine) -> None:
    sessions = CitizenSessions(engine, absolute_seconds=3600, idle_seconds=600)
    session_id = await sessions.start(Resident(NIK, "sub-1", None))
    async with engine.connect() as conn:
        [stored] = (await conn.execute(sa.select(sessions_table.c.id_hash))).scalars()
    assert session_id not in stored and len(stored) == 64
    assert (await sessions.find(stored)) is None  # the stored value is no session id
    assert (await sessions.find(session_id)) == Resident(NIK, "sub-1", None)


def test_signing_in_gives_a_new_id_and_ends_the_one_planted_before(store_url: str,
                                                                   tmp_path: Path) -> None:
    with two_instances(store_url, tmp_path) as (victim, attacker):
        attacker.get("/warga/in")
        planted = _decoded(_cookie_of(attacker))["sid"]
        victim.get("/warga/plant", params={"sid": planted})  # a session id fixed in the victim's browser
        assert victim.get("/warga/who").text == NIK  # (it is the attacker's own session)
        victim.get("/warga/in")
        assert _decoded(_cookie_of(victim))["sid"] != planted
        assert attacker.get("/warga/who").status_code == 401  # the planted session ended with the sign-in


def test_a_tampered_or_forged_cookie_is_nobody_not_an_error(store_url: str,
                                                            tmp_path: Path) -> None:
    with two_instances(store_url, tmp_path) as (a, b):
        a.get("/warga/in")
        value = _cookie_of(a)
        b.cookies.set(COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
        assert b.get("/warga/who").status_code == 401
        # signed with the right secret (an insider's forgery), but an id that was never issued
        secret = (tmp_path / "citizen-session-secret").read_text().strip()
        for sid in ("x" * 43, "", 42, ["a"], "y" * 5000):
            payload = base64.b64encode(json.dumps({"sid": sid}).encode())
            forged = itsdangerous.TimestampSigner(secret).sign(payload).decode()
            b.cookies.set(COOKIE, forged)
            assert b.get("/warga/who").status_code == 401


async def test_a_session_ends_when_idle_or_too_old(engine: AsyncEngine) -> None:
    clock = Clock()
    sessions = CitizenSessions(engine, absolute_seconds=3600, idle_seconds=600, clock=clock)
    idle = await sessions.start(Resident(NIK, "sub-1", None))
    busy = await sessions.start(Resident(NIK, "sub-2", "Siti"))
    for _ in range(5):  # used every 5 minutes: alive past the idle time
        clock.now += 300
        assert await sessions.find(busy) is not None
    assert await sessions.find(idle) is None  # 25 minutes without a request
    clock.now += 3600 - 1500
    assert await sessions.find(busy) is None  # an hour after sign-in, however busy
    other = CitizenSessions(engine, absolute_seconds=3600, idle_seconds=600, clock=clock)  # another instance
    assert await other.find(busy) is None and await other.find(idle) is None
    await other.start(Resident(NIK, "sub-3", None))  # a sign-in deletes what ended
    assert await other.count() == 1
