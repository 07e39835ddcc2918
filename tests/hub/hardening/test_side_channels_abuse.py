"""Abuse of the public write paths (issue 21, class 8): every public entry point is
rate limited (429, Retry-After, RATE_LIMITED), failed client authentications count and
are refused before scrypt runs, and the satisfaction survey cannot be stuffed: one
answer per finished application, answers without one limited per caller and day, and
the published index says how many answers it counted and how many it refused."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.testclient import TestClient

import auth.clients
from auth.clients import add_client
from auth.principal import ANONYMOUS
from connectors.surveys import AlreadySurveyed, Refusal, SurveyReceipt, SurveyResponse, SurveyStore, surveys_metadata
from connectors.surveys.tables import surveys
from tests.support.hardening import guarded_sources, memory_settings
from tests.support.sample_world import World
from hub.app import create_app
from hub.public_limits import PublicQuota
from hub.ratelimit import InProcessCounter, Limiter
from hub.settings import Settings
from hub.store import create_store_engine, create_tables, write_transaction
from schema.quota import ANONYMOUS_SURVEY
from tests.support.pg_database import postgres_database

WIB = ZoneInfo("Asia/Jakarta")
REDIS_URL = "redis://127.0.0.1:6379/0"
FINISHED_IUMK = "503/DPMPTSP/2025/000001-X0"
FINISHED_PBG = "503/DPMPTSP/2025/000003-X2"
OTHER_FINISHED_PBG = "503/DPMPTSP/2025/000005-X4"
RUNNING_PBG = "503/DPMPTSP/2025/000002-X1"
SCORES = [4, 3, 3, 4, 3, 3, 4, 3, 3]
SUBMIT = ("mutation($i: SatisfactionSurveyInput!) { submitSatisfactionSurvey(input: $i) "
          "{ receiptNumber replayed applicationNumber } }")
INDEX = "{ satisfactionIndex { respondents refused refusals { reason answers } } }"
TRACK_APPLICATION = {"query": f'{{ trackApplication(number: "{FINISHED_PBG}") {{ number }} }}'}
TRACK_COMPLAINT = {"query": '{ trackComplaint(number: "LPR-2025-0000Q") { number } }'}
COMPLAINT = {
    "query": "mutation($i: ComplaintInput!) { submitComplaint(input: $i) { number } }",
    "variables": {"i": {"title": "Lampu jalan mati", "content": "Lampu jalan di depan rumah mati sejak kemarin",
                        "classification": "COMPLAINT", "category": "Infrastruktur",
                        "kelurahan": "1471081001"}},
}
FORM = {"layanan": "PBG", **{f"u{i}": "3" for i in range(1, 10)}}


def two_per_minute(*names: str) -> dict[str, dict[str, float]]:
    return {name: {"requests": 2, "window_seconds": 60} for name in names}


def hub_settings(tmp_path: Path, **public: Any) -> Settings:
    return memory_settings(tmp_path, rate_limits={"public": public})


@pytest.fixture
def hub(tmp_path: Path, world: World) -> Callable[..., TestClient]:
    """A hub over the sample world with the given public limits (entered by the test)."""

    def make(**public: Any) -> TestClient:
        return TestClient(create_app(hub_settings(tmp_path, **public), sources=guarded_sources(world)))

    return make


def assert_rate_limited(response: Any, *, window: int = 60) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["retry-after"]) <= window
    if response.headers["content-type"].startswith("application/json"):
        codes = [e["extensions"]["code"] for e in response.json()["errors"]]
        assert "RATE_LIMITED" in codes


# -- every public entry point hits 429 -------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "request_once"),
    [
        pytest.param("page", lambda c: c.get("/"), id="public-page"),
        pytest.param("survey_form", lambda c: c.get("/survei"), id="survey-form-get"),
        pytest.param("survey_form", lambda c: c.post("/survei", data={"layanan": ""}), id="survey-form-post"),
        pytest.param("tracking", lambda c: c.post("/graphql", json=TRACK_APPLICATION), id="trackApplication"),
        pytest.param("tracking", lambda c: c.post("/graphql", json=TRACK_COMPLAINT), id="trackComplaint"),
        pytest.param("submit_complaint", lambda c: c.post("/graphql", json=COMPLAINT), id="submitComplaint"),
        pytest.param("submit_survey", lambda c: c.post(
            "/graphql", json={"query": SUBMIT, "variables": {"i": {"service": "PBG", "scores": SCORES}}}),
            id="submitSatisfactionSurvey"),
        pytest.param("token", lambda c: c.post(
            "https://testserver/oauth/token", data={"grant_type": "client_credentials"}, auth=("nobody", "x")),
            id="oauth-token"),
    ],
)
def test_each_public_entry_point_answers_429_past_its_limit(
    hub: Callable[..., TestClient], limit: str, request_once: Callable[[TestClient], Any]
) -> None:
    with hub(**two_per_minute(limit)) as client:
        allowed = [request_once(client).status_code for _ in range(2)]
        refused = request_once(client)
        assert client.get("/healthz").status_code == 200
    assert 429 not in allowed
    assert_rate_limited(refused)


def test_tracking_counts_each_look_up_so_aliases_do_not_multiply_the_allowance(
    hub: Callable[..., TestClient],
) -> None:
    aliases = " ".join(f'a{i}: trackApplication(number: "{FINISHED_PBG}") {{ number }}' for i in range(3))
    with hub(**two_per_minute("tracking")) as client:
        answer = client.post("/graphql", json={"query": f"{{ {aliases} }}"})
    assert_rate_limited(answer)
    body = answer.json()
    assert body["data"]["a0"] == {"number": FINISHED_PBG} and body["data"]["a2"] is None
    assert [e["path"] for e in body["errors"]] == [["a2"]]


def test_the_survey_form_post_past_the_answer_limit_is_a_429_page(hub: Callable[..., TestClient]) -> None:
    with hub(**two_per_minute("submit_survey")) as client:
        statuses = [client.post("/survei", data=FORM).status_code for _ in range(2)]
        refused = client.post("/survei", data=FORM)
    assert statuses == [200, 200]
    assert_rate_limited(refused)
    assert "text/html" in refused.headers["content-type"] and "Too many survey answers" in refused.text


def test_public_limits_are_per_address(hub: Callable[..., TestClient]) -> None:
    with hub(**two_per_minute("page")) as first:
        for _ in range(3):
            first.get("/")
        other = TestClient(first.app, client=("10.0.0.2", 5000))
        assert first.get("/").status_code == 429
        assert other.get("/").status_code == 200


# -- /oauth/token: failed client authentications, scrypt -------------------------------


@pytest.fixture
def scrypt_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts every scrypt computation of a client secret (the real one still runs)."""
    calls: list[int] = []
    real = auth.clients._scrypt

    def counted(*args: Any) -> bytes:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(auth.clients, "_scrypt", counted)
    return calls


def register(settings: Settings, client_id: str) -> str:
    async def run() -> str:
        engine = create_store_engine(settings.resolved_store_url)
        try:
            await create_tables(engine)
            async with write_transaction(engine) as conn:
                return (await add_client(conn, client_id=client_id, roles=["analyst"]))[1]
        finally:
            await engine.dispose()

    return asyncio.run(run())


def token_request(client: TestClient, client_id: str, secret: str) -> Any:
    return client.post("https://testserver/oauth/token", data={"grant_type": "client_credentials"},
                       auth=(client_id, secret))


@pytest.fixture
def token_hub(tmp_path: Path, world: World) -> Iterator[tuple[TestClient, Settings, dict[str, str]]]:
    settings = hub_settings(tmp_path, failed_auth_per_client={"requests": 3, "window_seconds": 300},
                            failed_auth_per_address={"requests": 5, "window_seconds": 300},
                            token={"requests": 100, "window_seconds": 60})
    secrets = {name: register(settings, name) for name in ("dashboard", "reporting")}
    with TestClient(create_app(settings, sources=guarded_sources(world))) as client:
        yield client, settings, secrets


def test_failed_client_authentications_are_refused_before_scrypt_runs(
    token_hub: tuple[TestClient, Settings, dict[str, str]], scrypt_calls: list[int]
) -> None:
    client, _, secrets = token_hub
    statuses = [token_request(client, "dashboard", "wrong").status_code for _ in range(10)]
    assert statuses == [401] * 3 + [429] * 7
    assert len(scrypt_calls) == 3  # the refused seven never reached the secret check
    assert_rate_limited(token_request(client, "dashboard", "wrong"), window=300)
    # the client id is locked for the window, even with its right secret (no oracle)
    assert token_request(client, "dashboard", secrets["dashboard"]).status_code == 429
    assert len(scrypt_calls) == 3
    # another client from the same address still gets its token
    assert token_request(client, "reporting", secrets["reporting"]).status_code == 200


def test_failures_per_address_count_across_client_ids_known_or_not(
    token_hub: tuple[TestClient, Settings, dict[str, str]], scrypt_calls: list[int]
) -> None:
    client, _, secrets = token_hub
    statuses = [token_request(client, f"guess-{i}", "wrong").status_code for i in range(5)]
    refused = token_request(client, "reporting", secrets["reporting"])
    assert statuses == [401] * 5  # five ids, each failing once: the address's five
    assert_rate_limited(refused, window=300)
    assert len(scrypt_calls) == 5
    other = TestClient(client.app, client=("10.0.0.9", 5000))
    assert token_request(other, "reporting", secrets["reporting"]).status_code == 200


def test_the_scrypt_work_one_address_can_cause_is_bounded(
    tmp_path: Path, world: World, scrypt_calls: list[int]
) -> None:
    settings = hub_settings(tmp_path, token={"requests": 4, "window_seconds": 60})
    secret = register(settings, "dashboard")
    scrypt_calls.clear()
    with TestClient(create_app(settings, sources=guarded_sources(world))) as client:
        statuses = [token_request(client, "dashboard", secret).status_code for _ in range(10)]
    assert statuses == [200] * 4 + [429] * 6  # right secrets too: every request counts
    assert len(scrypt_calls) == 4


# -- the survey: one answer per finished application -----------------------------------


def answer(client: TestClient, **fields: Any) -> dict[str, Any]:
    data = {"service": "PBG", "scores": SCORES, **fields}
    return client.post("/graphql", json={"query": SUBMIT, "variables": {"i": data}}).json()  # type: ignore[no-any-return]


def index(client: TestClient) -> dict[str, Any]:
    return client.post("/graphql", json={"query": INDEX}).json()["data"]["satisfactionIndex"]  # type: ignore[no-any-return]


def reason(body: dict[str, Any]) -> tuple[str, str | None]:
    extensions = body["errors"][0]["extensions"]
    return extensions["code"], extensions.get("reason")


def test_an_application_takes_one_answer_and_the_same_answer_twice_is_one(hub: Callable[..., TestClient]) -> None:
    with hub() as client:
        first = answer(client, applicationNumber=FINISHED_PBG)["data"]["submitSatisfactionSurvey"]
        again = answer(client, applicationNumber=FINISHED_PBG)["data"]["submitSatisfactionSurvey"]
        other = answer(client, applicationNumber=FINISHED_PBG, scores=[1] * 9)
        other_again = answer(client, applicationNumber=FINISHED_PBG, scores=[1] * 9)
        third = answer(client, applicationNumber=FINISHED_PBG, scores=[2] * 9, idempotencyKey="k-1")
        third_again = answer(client, applicationNumber=FINISHED_PBG, scores=[2] * 9, idempotencyKey="k-1")
        published = index(client)
    assert first["replayed"] is False and first["applicationNumber"] == FINISHED_PBG
    assert again == {**first, "replayed": True}  # the same request: the same receipt, counted once
    assert other["data"] is None and reason(other) == ("BAD_USER_INPUT", "ALREADY_SURVEYED")
    assert reason(other_again) == reason(third) == reason(third_again) == ("BAD_USER_INPUT", "ALREADY_SURVEYED")
    # two refused answers, each sent twice: refused twice, not four times
    assert published == {"respondents": 1, "refused": 2,
                         "refusals": [{"reason": "ALREADY_SURVEYED", "answers": 2}]}


@pytest.mark.parametrize(
    ("number", "service"),
    [
        pytest.param(RUNNING_PBG, "PBG", id="not-finished"),
        pytest.param("503/DPMPTSP/2025/999999-ZZ", "PBG", id="unknown"),
        pytest.param(FINISHED_IUMK, "PBG", id="another-service"),
    ],
)
def test_an_answer_about_an_application_that_cannot_be_surveyed_is_refused_and_counted(
    hub: Callable[..., TestClient], number: str, service: str
) -> None:
    with hub() as client:
        refused = answer(client, applicationNumber=number, service=service)
        published = index(client)
    assert reason(refused) == ("BAD_USER_INPUT", "NOT_ELIGIBLE")
    assert published == {"respondents": 0, "refused": 1, "refusals": [{"reason": "NOT_ELIGIBLE", "answers": 1}]}


def test_concurrent_answers_about_one_application_store_exactly_one(hub: Callable[..., TestClient]) -> None:
    async def race(client: TestClient) -> list[dict[str, Any]]:
        def one(i: int) -> dict[str, Any]:
            return answer(client, applicationNumber=OTHER_FINISHED_PBG, scores=[1 + i % 4] * 8 + [1 + i // 4])

        return list(await asyncio.gather(*(asyncio.to_thread(one, i) for i in range(8))))

    with hub() as client:
        bodies = asyncio.run(race(client))
        published = index(client)
    stored = [b for b in bodies if b["data"] and b["data"]["submitSatisfactionSurvey"]]
    refused = [b for b in bodies if b.get("errors")]
    assert len(stored) == 1 and len(refused) == 7  # eight different answers: one wins
    assert all(reason(b) == ("BAD_USER_INPUT", "ALREADY_SURVEYED") for b in refused)
    assert published["respondents"] == 1 and published["refused"] == 7


# -- the survey: answers without an application, per caller and day --------------------


def test_answers_without_an_application_are_limited_per_address_and_day(hub: Callable[..., TestClient]) -> None:
    with hub(anonymous_surveys_per_day=2) as client:
        bodies = [answer(client, idempotencyKey=f"k-{i}") for i in range(3)]
        replay = answer(client, idempotencyKey="k-0")  # a replay takes nothing of the day
        with_number = answer(client, applicationNumber=FINISHED_PBG)
        neighbour = TestClient(client.app, client=("10.0.0.3", 5000))
        from_another_address = answer(neighbour)
        limited = client.post("/graphql", json={"query": SUBMIT, "variables": {
            "i": {"service": "PBG", "scores": SCORES}}})
        published = index(client)
    assert [b["data"]["submitSatisfactionSurvey"] is not None for b in bodies[:2]] == [True, True]
    assert reason(bodies[2]) == ("RATE_LIMITED", "DAILY_LIMIT")
    assert replay["data"]["submitSatisfactionSurvey"]["replayed"] is True
    assert with_number["data"]["submitSatisfactionSurvey"] is not None
    assert from_another_address["data"]["submitSatisfactionSurvey"] is not None
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) <= 86400
    assert published == {"respondents": 4, "refused": 2, "refusals": [{"reason": "DAILY_LIMIT", "answers": 2}]}


def test_the_daily_allowance_starts_again_on_the_next_local_day() -> None:
    now = [datetime(2025, 8, 20, 23, 59, 30, tzinfo=WIB)]
    quota = PublicQuota(Limiter(InProcessCounter(), {}), anonymous_surveys_per_day=1, now=lambda: now[0])

    async def take() -> float | None:
        return await quota.take(ANONYMOUS_SURVEY, ANONYMOUS, "10.0.0.1")

    first, second = asyncio.run(take()), asyncio.run(take())
    now[0] += timedelta(minutes=1)  # 00:00:30 the next day in Jakarta
    assert first is None and second is not None and 0 < second <= 30
    assert asyncio.run(take()) is None


# -- the published figures --------------------------------------------------------------


def test_the_report_and_the_public_page_say_how_many_answers_were_counted_and_refused(
    hub: Callable[..., TestClient],
) -> None:
    today = datetime.now(WIB).date()
    report = ("query($y: Int!) { performanceReport(period: {year: $y}) { satisfaction "
              "{ respondents { value } refused { value } } } }")
    with hub(anonymous_surveys_per_day=5) as client:
        for i in range(5):
            answer(client, idempotencyKey=f"k-{i}")
        answer(client, applicationNumber=RUNNING_PBG)
        answer(client)  # the sixth answer without a number today: refused
        found = client.post("/graphql", json={"query": report, "variables": {"y": today.year}}).json()
        page = client.get("/").text
    assert found["data"]["performanceReport"]["satisfaction"] == {"respondents": {"value": 5},
                                                                  "refused": {"value": 2}}
    assert "5 jawaban dihitung, 2 jawaban ditolak" in page


@pytest.mark.redis
def test_public_limits_and_failed_authentications_are_shared_through_redis(
    tmp_path: Path, world: World, scrypt_calls: list[int]
) -> None:
    prefix = f"simpul-test:{uuid.uuid4().hex}:"
    connection = redis.Redis.from_url(REDIS_URL)

    def hub(name: str) -> TestClient:
        settings = memory_settings(tmp_path / name, redis_url=REDIS_URL, rate_limits={
            "key_prefix": prefix, "public": {**two_per_minute("tracking"),
                                             "failed_auth_per_client": {"requests": 2, "window_seconds": 60}}})
        return TestClient(create_app(settings, sources=guarded_sources(world)))

    try:
        with hub("a") as first, hub("b") as second:
            tracked = [c.post("/graphql", json=TRACK_APPLICATION).status_code for c in (first, second, first)]
            failed = [token_request(c, "dashboard", "wrong").status_code for c in (first, second, first, second)]
    finally:
        keys = list(connection.scan_iter(match=prefix + "*"))
        if keys:
            connection.delete(*keys)
        connection.close()
    assert tracked == [200, 200, 429]
    assert failed == [401, 401, 429, 429]
    assert len(scrypt_calls) == 2


# -- the store: uniqueness on SQLite and PostgreSQL, and an existing store's upgrade ------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def store_engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An empty database (no tables) on SQLite or on a fresh PostgreSQL database."""
    async with AsyncExitStack() as stack:
        if request.param == "postgres":
            url = stack.enter_context(postgres_database("abuse_test"))
        else:
            url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
        engine = create_async_engine(url)
        stack.push_async_callback(engine.dispose)
        yield engine


async def test_concurrent_duplicates_store_one_answer_on_each_database(store_engine: AsyncEngine) -> None:
    async with store_engine.begin() as conn:
        await conn.run_sync(surveys_metadata.create_all)
    stores = [SurveyStore(store_engine) for _ in range(6)]

    async def submit(store: SurveyStore, i: int) -> object:
        try:
            return await store.submit(SurveyResponse(service="PBG", scores=(1 + i % 2,) * 9,
                                                     application_number=FINISHED_PBG))
        except AlreadySurveyed as exc:
            return exc

    outcomes = await asyncio.gather(*(submit(s, i) for i, s in enumerate(stores)))
    receipts = {o.receipt_number for o in outcomes if isinstance(o, SurveyReceipt)}
    assert len(receipts) == 1 and await stores[0].count() == 1
    assert all(isinstance(o, (SurveyReceipt, AlreadySurveyed)) for o in outcomes)


async def test_a_store_from_before_the_refusal_counts_upgrades_without_losing_answers(
    store_engine: AsyncEngine,
) -> None:
    async with store_engine.begin() as conn:  # the store as the previous release created it
        await conn.run_sync(lambda sync: surveys.create(sync))
    store = SurveyStore(store_engine)
    kept = await store.submit(SurveyResponse(service="PBG", scores=tuple(SCORES), application_number=FINISHED_PBG))
    await create_tables(store_engine)  # what the hub does at every start
    await create_tables(store_engine)
    refused = SurveyResponse(service="PBG", scores=(1,) * 9, application_number=FINISHED_PBG)
    await store.refuse(refused, Refusal.ALREADY_SURVEYED)
    await store.refuse(refused, Refusal.ALREADY_SURVEYED)  # the same request: counted once
    await store.refuse(SurveyResponse(service="PBG", scores=(1,) * 9), Refusal.DAILY_LIMIT)
    today = datetime.now(WIB).date()
    assert await store.count() == 1
    assert (await store.replay(SurveyResponse(service="PBG", scores=tuple(SCORES),
                                              application_number=FINISHED_PBG))).receipt_number == kept.receipt_number
    assert await store.refused(service=None, first_day=today, last_day=today) == {
        Refusal.ALREADY_SURVEYED: 1, Refusal.DAILY_LIMIT: 1}
