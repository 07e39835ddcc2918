"""`MetricsView`: case facts in the hub's store, kept fresh from the change feeds.

Refreshing a source:
1. First run (no cursor yet): walk the change feed to its end and keep that cursor,
   then copy every record through the paged list method. Anything that changes during
   the copy lies after the cursor and is fetched again on the next run.
2. Later runs: read the feed from the stored cursor, re-fetch the changed records by
   number in batches, upsert their facts and store the new cursor in the same
   transaction, one feed page at a time (a failure loses no progress).
3. When the day changes, recompute the time-dependent facts of open cases (elapsed
   working days, overdue, missed deadlines) from the stored dates: no source call.

Metrics are SQL aggregates over the facts (`connectors.metrics.queries`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, false, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from connectors.metrics import queries
from connectors.metrics.facts import (
    age_application,
    age_complaint,
    application_fact,
    complaint_fact,
)
from connectors.metrics.model import (
    ApplicationMetrics,
    ComplaintMetrics,
    Freshness,
    MetricsFilter,
    RefreshResult,
    ServiceMetrics,
)
from connectors.metrics.tables import application_facts, complaint_facts, refresh_state
from connectors.metrics.upsert import check_dialect, upsert
from connectors.protocols import ComplaintSource, LicensingSource
from connectors.records import ApplicationFilter, ComplaintFilter, Page, PageRequest
from connectors.workdays import WorkCalendar

log = logging.getLogger("connectors.metrics")

#: The largest page or batch any backend serves.
MAX_BATCH = 1000


def _utcnow() -> datetime:
    return datetime.now(UTC)


class _Kind:
    """How to read one kind of case from its source and turn it into facts."""

    def __init__(
        self,
        source: LicensingSource | ComplaintSource,
        table: Table,
        fact: Callable[[Any, WorkCalendar, date], dict[str, Any]],
        by_number: Callable[[Sequence[str]], Awaitable[dict[str, Any]]],
        list_page: Callable[[PageRequest], Awaitable[Page[Any]]],
    ) -> None:
        self.source_id = source.source_id
        self.changes_since = source.changes_since
        self.table = table
        self.fact = fact
        self.by_number = by_number
        self.list_page = list_page


class MetricsView:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        batch_size: int = 500,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        check_dialect(engine.dialect.name)
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be between 1 and {MAX_BATCH}")
        self._engine = engine
        self._batch = batch_size
        self._clock = clock

    # -- refreshing ----------------------------------------------------------------

    async def refresh(
        self,
        *,
        licensing: LicensingSource | None = None,
        complaints: ComplaintSource | None = None,
        calendar: WorkCalendar,
        today: date,
    ) -> list[RefreshResult]:
        """Bring the facts of each given source up to date; sources fail independently
        (the first error is raised after the others were refreshed)."""
        kinds = []
        if licensing is not None:
            kinds.append(_licensing_kind(licensing))
        if complaints is not None:
            kinds.append(_complaints_kind(complaints))
        results: list[RefreshResult] = []
        errors: list[Exception] = []
        for kind in kinds:
            try:
                results.append(await self._refresh_one(kind, calendar, today))
            except Exception as exc:  # noqa: BLE001 - raised after the other sources ran
                log.warning("metrics refresh of %s failed: %s", kind.source_id, exc)
                errors.append(exc)
        if errors:
            raise errors[0]
        return results

    async def _refresh_one(self, kind: _Kind, calendar: WorkCalendar, today: date) -> RefreshResult:
        state = await self._state(kind.source_id)
        backfill = state is None or not state["backfilled"]
        if backfill:
            changes = 0
            cursor = await self._feed_end(kind, state["cursor"] if state else None)
            written = await self._backfill(kind, calendar, today)
            await self._save_state(kind.source_id, cursor=cursor, backfilled=True, records=written)
        else:
            assert state is not None
            changes, written = await self._follow_feed(kind, state["cursor"], calendar, today)
        aged = await self._age(kind.table, calendar, today)
        return RefreshResult(kind.source_id, backfill, changes, written, aged)

    async def _feed_end(self, kind: _Kind, cursor: str | None) -> str | None:
        while True:
            batch = await kind.changes_since(cursor, MAX_BATCH)
            if batch.cursor is not None:
                cursor = batch.cursor
            if not batch.has_more:
                return cursor

    async def _backfill(self, kind: _Kind, calendar: WorkCalendar, today: date) -> int:
        written = 0
        after: str | None = None
        while True:
            page = await kind.list_page(PageRequest(first=MAX_BATCH, after=after))
            rows = [kind.fact(record, calendar, today) for record in page.items]
            async with self._engine.begin() as conn:
                written += await upsert(conn, kind.table, rows)
            if not page.has_next or page.end_cursor is None:
                return written
            after = page.end_cursor

    async def _follow_feed(
        self, kind: _Kind, cursor: str | None, calendar: WorkCalendar, today: date
    ) -> tuple[int, int]:
        changes = written = 0
        while True:
            batch = await kind.changes_since(cursor, MAX_BATCH)
            changes += len(batch.changes)
            keys = list(dict.fromkeys(change.key for change in batch.changes))
            found: dict[str, Any] = {}
            for start in range(0, len(keys), self._batch):
                found.update(await kind.by_number(keys[start : start + self._batch]))
            rows = [kind.fact(found[key], calendar, today) for key in keys if key in found]
            gone = [key for key in keys if key not in found]
            if batch.cursor is not None:
                cursor = batch.cursor
            async with self._engine.begin() as conn:
                written += await upsert(conn, kind.table, rows)
                if gone:  # removed at the source: the facts go too
                    await conn.execute(delete(kind.table).where(kind.table.c.number.in_(gone)))
                await self._write_state(conn, kind.source_id, cursor=cursor, backfilled=True, records=written)
            if not batch.has_more or not batch.changes:
                return changes, written

    async def _age(self, table: Table, calendar: WorkCalendar, today: date) -> int:
        """Recompute the time-dependent facts of open cases last computed before today."""
        c = table.c
        if table is application_facts:
            columns = [c.number, c.file_complete_at, c.due_date, c.finished_at, c.finished]
        else:
            columns = [c.number, c.submitted_on, c.verified_at, c.disposed_at, c.followed_up_at, c.closed_at]
        stmt = select(*columns).where(c.finished == false(), c.aged_on < today)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        if not rows:
            return 0
        updates = [self._aged_row(table, row, calendar, today) for row in rows]
        values: dict[str, Any] = {name: bindparam(name) for name in updates[0] if name != "key"}
        change = update(table).where(c.number == bindparam("key")).values(values)
        async with self._engine.begin() as conn:
            for start in range(0, len(updates), MAX_BATCH):
                await conn.execute(change, updates[start : start + MAX_BATCH])
        return len(updates)

    @staticmethod
    def _aged_row(table: Table, row: Any, calendar: WorkCalendar, today: date) -> dict[str, Any]:
        if table is application_facts:
            timing = age_application(
                file_complete_on=row.file_complete_at.date() if row.file_complete_at else None,
                due_date=row.due_date,
                finished_on=row.finished_at.date() if row.finished_at else None,
                finished=row.finished,
                calendar=calendar,
                today=today,
            )
            return {"key": row.number, "working_days": timing.working_days,
                    "on_time": timing.on_time, "overdue": timing.overdue, "aged_on": today}
        ctiming = age_complaint(
            submitted_on=row.submitted_on,
            verified_on=row.verified_at.date() if row.verified_at else None,
            disposed_on=row.disposed_at.date() if row.disposed_at else None,
            followed_up_on=row.followed_up_at.date() if row.followed_up_at else None,
            finished_on=row.closed_at.date() if row.closed_at else None,
            calendar=calendar,
            today=today,
        )
        return {"key": row.number, "verification_days": ctiming.verification_days,
                "follow_up_days": ctiming.follow_up_days,
                "verified_in_time": ctiming.verified_in_time,
                "followed_up_in_time": ctiming.followed_up_in_time, "aged_on": today}

    # -- refresh state -------------------------------------------------------------

    async def _state(self, source_id: str) -> dict[str, Any] | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(select(refresh_state).where(refresh_state.c.source_id == source_id))
            ).first()
        return dict(row._mapping) if row is not None else None

    async def _save_state(self, source_id: str, **values: Any) -> None:
        async with self._engine.begin() as conn:
            await self._write_state(conn, source_id, **values)

    async def _write_state(
        self, conn: AsyncConnection, source_id: str, *, cursor: str | None, backfilled: bool, records: int
    ) -> None:
        now = self._clock().astimezone(UTC).replace(tzinfo=None)
        await upsert(
            conn,
            refresh_state,
            [{"source_id": source_id, "cursor": cursor, "refreshed_at": now,
              "backfilled": backfilled, "records": records}],
        )

    async def freshness(self) -> Freshness:
        stmt = select(refresh_state.c.source_id, refresh_state.c.refreshed_at).where(
            refresh_state.c.refreshed_at.is_not(None)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return Freshness({source: at.replace(tzinfo=UTC) for source, at in rows})

    # -- metrics -------------------------------------------------------------------

    async def application_metrics(self, flt: MetricsFilter, *, by_kelurahan: bool = False) -> ApplicationMetrics:
        async with self._engine.connect() as conn:
            return await queries.application_metrics(
                conn, queries.application_conditions(flt), by_kelurahan=by_kelurahan
            )

    async def complaint_metrics(self, flt: MetricsFilter, *, by_kelurahan: bool = False) -> ComplaintMetrics:
        async with self._engine.connect() as conn:
            return await queries.complaint_metrics(
                conn, queries.complaint_conditions(flt), by_kelurahan=by_kelurahan
            )

    async def service_metrics(self, flt: MetricsFilter, *, by_kelurahan: bool = False) -> ServiceMetrics:
        return ServiceMetrics(
            as_of=(await self.freshness()).as_of,
            applications=await self.application_metrics(flt, by_kelurahan=by_kelurahan),
            complaints=await self.complaint_metrics(flt, by_kelurahan=by_kelurahan),
        )


def _licensing_kind(source: LicensingSource) -> _Kind:
    return _Kind(
        source,
        application_facts,
        application_fact,
        source.applications_by_number,
        lambda page: source.list_applications(ApplicationFilter(), page),
    )


def _complaints_kind(source: ComplaintSource) -> _Kind:
    return _Kind(
        source,
        complaint_facts,
        complaint_fact,
        source.complaints_by_number,
        lambda page: source.list_complaints(ComplaintFilter(), page),
    )
