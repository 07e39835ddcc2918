"""Keeping the service-metrics view fresh: a background task in the app's lifespan.

It refreshes once at start-up and then every `interval` seconds; a failing source is
logged and tried again next time, never crashing the hub. Several hub instances may
each run it: facts are upserts, so concurrent refreshes only repeat work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date

from connectors.metrics import MetricsView, RefreshResult
from connectors.protocols import ComplaintSource, LicensingSource
from connectors.resilience import bulk_reads
from connectors.workdays import WorkCalendar
from hub.background import cancel_task

log = logging.getLogger("simpul.metrics")


class MetricsRefresher:
    def __init__(
        self,
        view: MetricsView,
        *,
        licensing: LicensingSource,
        complaints: ComplaintSource,
        calendar: WorkCalendar,
        today: Callable[[], date],
        interval: float,
    ) -> None:
        self._view = view
        self._licensing = licensing
        self._complaints = complaints
        self._calendar = calendar
        self._today = today
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self.runs = 0
        self.completed = 0
        self.failures = 0
        self._lock = asyncio.Lock()  # the periodic refresh and one asked for by events do not overlap

    async def refresh_once(self) -> list[RefreshResult]:
        """One refresh of both sources; errors are logged, never raised."""
        async with self._lock:
            return await self._refresh_once()

    async def _refresh_once(self) -> list[RefreshResult]:
        self.runs += 1
        try:
            with bulk_reads():  # whole-source walks are not answers worth keeping for outages
                results = await self._view.refresh(
                    licensing=self._licensing,
                    complaints=self._complaints,
                    calendar=self._calendar,
                    today=self._today(),
                )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.failures += 1
            log.warning("metrics refresh failed (will retry in %ss): %s", self._interval, exc,
                        exc_info=log.isEnabledFor(logging.DEBUG))
            return []
        self.completed += 1
        for result in results:
            log.info("metrics refresh %s: backfill=%s changes=%d written=%d aged=%d", result.source_id,
                     result.backfilled, result.changes, result.written, result.aged)
        return results

    async def _loop(self) -> None:
        while True:
            await self.refresh_once()
            if self._interval <= 0:
                return
            await asyncio.sleep(self._interval)

    def start(self) -> None:
        """Refresh now and then every `interval` seconds (0: only now), in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="metrics-refresh")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_task(task)
