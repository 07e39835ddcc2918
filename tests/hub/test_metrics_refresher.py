"""The background refresh: once at start-up, then on its interval; errors never escape."""

from __future__ import annotations

import asyncio
import logging
from datetime import date

import pytest
from tests.support.metrics_cases import application, sqlite_store  # noqa: F401
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.errors import SourceUnavailable
from connectors.memory import InMemoryComplaintSource, InMemoryLicensingSource
from connectors.metrics import MetricsFilter, MetricsView
from connectors.workdays import WorkCalendar
from hub.refresh import MetricsRefresher


def refresher(view: MetricsView, licensing: InMemoryLicensingSource, interval: float) -> MetricsRefresher:
    return MetricsRefresher(view, licensing=licensing, complaints=InMemoryComplaintSource([]),
                            calendar=WorkCalendar(), today=lambda: date(2025, 6, 2), interval=interval)


async def _until(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def test_it_refreshes_at_start_and_then_on_its_interval(sqlite_store: AsyncEngine) -> None:
    licensing = InMemoryLicensingSource([application("A-1")])
    view = MetricsView(sqlite_store)
    task = refresher(view, licensing, interval=0.05)
    task.start()
    try:
        await _until(lambda: task.runs >= 3)
    finally:
        await task.stop()
    assert (await view.application_metrics(MetricsFilter())).summary.total == 1
    assert licensing.calls["list_applications"] == 1  # one backfill, then the change feed
    assert licensing.calls["changes_since"] >= 2  # the backfill finds the feed end, then follows it


async def test_a_failing_source_is_logged_and_retried_without_stopping_the_task(
    sqlite_store: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    licensing = InMemoryLicensingSource([application("A-1")])
    licensing.failure = SourceUnavailable("licensing", "down for maintenance")
    task = refresher(MetricsView(sqlite_store), licensing, interval=0.02)
    with caplog.at_level(logging.WARNING, logger="simpul.metrics"):
        task.start()
        try:
            await _until(lambda: task.failures >= 2)
            licensing.failure = None
            await _until(lambda: task.runs > task.failures + 1)
        finally:
            await task.stop()
    assert "down for maintenance" in caplog.text


async def test_with_interval_zero_it_refreshes_once(sqlite_store: AsyncEngine) -> None:
    licensing = InMemoryLicensingSource([application("A-1")])
    task = refresher(MetricsView(sqlite_store), licensing, interval=0)
    task.start()
    await _until(lambda: task.runs == 1)
    await asyncio.sleep(0.05)
    await task.stop()
    assert task.runs == 1


async def test_stopping_a_task_that_never_started_is_harmless(sqlite_store: AsyncEngine) -> None:
    await refresher(MetricsView(sqlite_store), InMemoryLicensingSource([]), interval=1).stop()


async def test_the_refresh_keeps_no_stale_answers_while_callers_reads_are_kept(sqlite_store: AsyncEngine) -> None:
    from connectors.records import ApplicationFilter, PageRequest
    from connectors.resilience import GuardedLicensingSource, ResiliencePolicy

    licensing = GuardedLicensingSource(InMemoryLicensingSource([application("A-1")]), ResiliencePolicy())
    task = MetricsRefresher(MetricsView(sqlite_store), licensing=licensing, complaints=InMemoryComplaintSource([]),
                            calendar=WorkCalendar(), today=lambda: date(2025, 6, 2), interval=0)
    await task.refresh_once()
    assert task.failures == 0 and licensing.guard.cache.records_held == 0

    await licensing.list_applications(ApplicationFilter(), PageRequest(first=10))  # a caller's read
    assert licensing.guard.cache.records_held == 1
