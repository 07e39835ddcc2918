"""The satisfaction-survey store on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from connectors.records import Sex
from connectors.surveys import (
    AgeGroup,
    AlreadySurveyed,
    IdempotencyConflict,
    InvalidSurvey,
    SurveyResponse,
    SurveyStore,
    SurveyStoreUnavailable,
    surveys_metadata,
)
from tests.support.pg_database import hub_store_url

AUG_20 = datetime(2025, 8, 20, 3, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with AsyncExitStack() as stack:
        url = stack.enter_context(hub_store_url(request.param, tmp_path, "survey_test"))
        engine = create_async_engine(url)
        stack.push_async_callback(engine.dispose)
        async with engine.begin() as conn:
            await conn.run_sync(surveys_metadata.create_all)
        yield engine


@pytest.fixture
def store(engine: AsyncEngine) -> SurveyStore:
    return SurveyStore(engine, clock=lambda: AUG_20)


def response(*scores: int, **fields: object) -> SurveyResponse:
    return SurveyResponse(service=str(fields.pop("service", "PBG")),
                          scores=tuple(scores) if scores else (4, 3, 3, 4, 3, 3, 4, 3, 3),
                          **fields)  # type: ignore[arg-type]


async def test_a_submitted_survey_gets_a_receipt_and_counts_in_the_totals(store: SurveyStore) -> None:
    receipt = await store.submit(response(age_group=AgeGroup.FROM_30_TO_39, sex=Sex.FEMALE))
    assert receipt.receipt_number.startswith("SKM-") and len(receipt.receipt_number) == 14
    assert receipt.submitted_at == AUG_20
    assert receipt.replayed is False
    await store.submit(response(3, 3, 4, 3, 3, 4, 3, 3, 4))
    totals = await store.totals(service="PBG", first_day=date(2025, 8, 1), last_day=date(2025, 8, 31))
    assert totals.respondents == 2
    assert totals.totals == (7, 6, 7, 7, 6, 7, 7, 6, 7)


async def test_totals_filter_by_service_and_local_day_both_ends_inclusive(store: SurveyStore) -> None:
    # 31 August 18:00 UTC is 1 September 01:00 in Jakarta: a September response
    await store.submit(response(submitted_at=datetime(2025, 8, 31, 18, 0, tzinfo=UTC)))
    await store.submit(response(submitted_at=datetime(2025, 8, 1, 0, 0, tzinfo=UTC)))
    await store.submit(response(service="PENGADUAN"))
    august = await store.totals(service="PBG", first_day=date(2025, 8, 1), last_day=date(2025, 8, 31))
    september = await store.totals(service="PBG", first_day=date(2025, 9, 1), last_day=date(2025, 9, 1))
    everything = await store.totals(service=None, first_day=date(2025, 1, 1), last_day=date(2025, 12, 31))
    nothing = await store.totals(service="SLF", first_day=date(2025, 1, 1), last_day=date(2025, 12, 31))
    assert (august.respondents, september.respondents, everything.respondents) == (1, 1, 3)
    assert nothing.respondents == 0 and nothing.totals == (0,) * 9


async def test_totals_by_service_group_in_one_query(store: SurveyStore, engine: AsyncEngine) -> None:
    for service in ("PBG", "PBG", "IUMK"):
        await store.submit(response(service=service))
    statements: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        grouped = await store.totals_by_service(first_day=date(2025, 8, 1), last_day=date(2025, 8, 31))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    assert {k: v.respondents for k, v in grouped.items()} == {"IUMK": 1, "PBG": 2}
    assert grouped["PBG"].totals[0] == 8
    assert len(statements) == 1 and "sum(" in statements[0].lower() and "group by" in statements[0].lower()


async def test_an_application_takes_one_survey(store: SurveyStore) -> None:
    await store.submit(response(application_number="503/DPMPTSP/2025/000001-AB12"))
    with pytest.raises(AlreadySurveyed, match="already has its satisfaction survey") as caught:
        await store.submit(response(1, 1, 1, 1, 1, 1, 1, 1, 1, application_number="503/DPMPTSP/2025/000001-AB12"))
    assert caught.value.code == "BAD_USER_INPUT"
    assert await store.count() == 1
    assert await store.has_survey_for("503/DPMPTSP/2025/000001-AB12")


async def test_a_repeated_idempotency_key_returns_the_first_receipt(store: SurveyStore) -> None:
    first = await store.submit(response(idempotency_key="k-1", application_number="A-1"))
    again = await store.submit(response(idempotency_key="k-1", application_number="A-1"))
    assert again.receipt_number == first.receipt_number
    assert again.replayed is True
    assert await store.count() == 1


async def test_a_key_reused_for_a_different_answer_is_refused(store: SurveyStore) -> None:
    await store.submit(response(idempotency_key="k-2"))
    with pytest.raises(IdempotencyConflict, match="different survey response"):
        await store.submit(response(1, 2, 3, 4, 1, 2, 3, 4, 1, idempotency_key="k-2"))
    assert await store.count() == 1


async def test_concurrent_submissions_with_one_key_store_one_row(engine: AsyncEngine) -> None:
    stores = [SurveyStore(engine, clock=lambda: AUG_20) for _ in range(5)]
    receipts = await asyncio.gather(*(s.submit(response(idempotency_key="k-3")) for s in stores))
    assert len({r.receipt_number for r in receipts}) == 1
    assert await stores[0].count() == 1


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(SurveyResponse(service="PBG", scores=(4,) * 8), id="eight-scores"),
        pytest.param(SurveyResponse(service="PBG", scores=(4,) * 8 + (0,)), id="score-zero"),
        pytest.param(SurveyResponse(service="", scores=(4,) * 9), id="empty-service"),
        pytest.param(SurveyResponse(service="X" * 41, scores=(4,) * 9), id="long-service"),
        pytest.param(SurveyResponse(service="PBG", scores=(4,) * 9, idempotency_key="k\n"), id="control-key"),
    ],
)
async def test_values_the_store_cannot_hold_are_refused(store: SurveyStore, bad: SurveyResponse) -> None:
    with pytest.raises(InvalidSurvey):
        await store.submit(bad)
    assert await store.count() == 0


async def test_seed_responses_import_in_batches(store: SurveyStore) -> None:
    loaded = await store.import_responses(
        response(service="IUMK", submitted_at=datetime(2025, 1, 1, 3, tzinfo=UTC))
        for _ in range(2500)
    )
    assert loaded == 2500
    assert await store.count() == 2500
    assert await store.latest_day() == date(2025, 1, 1)


async def test_a_broken_store_is_source_unavailable(tmp_path: Path) -> None:
    broken = tmp_path / "hub.db"
    broken.write_bytes(b"this is not a database" * 100)
    engine = create_async_engine(f"sqlite+aiosqlite:///{broken}")
    try:
        with pytest.raises(SurveyStoreUnavailable) as caught:
            await SurveyStore(engine).count()
    finally:
        await engine.dispose()
    assert caught.value.code == "SOURCE_UNAVAILABLE"
    assert caught.value.source == "surveys"
