"""The event log, the lease and the classification of changes, on a store of their own
(no sources): what the readers and the bus rely on."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from connectors.records import ComplaintStatus, StatusChange
from hub.events.log import NewEvent, append_events, events_after, feed_position, log_bounds, prune_events, take_lease
from hub.events.reader import classify
from hub.store import create_store_engine, create_tables, write_transaction
from schema.events import EventKind, HubEvent
from tests.connectors.test_memory import complaint

T = datetime(2026, 12, 1, 9, tzinfo=timezone(timedelta(hours=7)))


def _step(status: ComplaintStatus, minutes: int) -> StatusChange:
    return StatusChange(status=status, source_status=status.value, at=T + timedelta(minutes=minutes))


@pytest.mark.parametrize(("history", "kind"), [
    pytest.param([ComplaintStatus.RECEIVED], EventKind.CREATED, id="created"),
    pytest.param([ComplaintStatus.RECEIVED, ComplaintStatus.VERIFIED], EventKind.STATUS_CHANGED, id="status"),
    pytest.param([ComplaintStatus.RECEIVED, ComplaintStatus.VERIFIED, ComplaintStatus.DISPOSED],
                 EventKind.ASSIGNED, id="assigned"),
    pytest.param([ComplaintStatus.RECEIVED, ComplaintStatus.VERIFIED, ComplaintStatus.VERIFIED],
                 EventKind.UPDATED, id="updated"),
])
def test_a_change_is_classified_from_the_case_history(history, kind):  # type: ignore[no-untyped-def]
    record = dataclasses.replace(complaint(1), status=history[-1],
                                 history=tuple(_step(s, i) for i, s in enumerate(history)))
    assert classify(record) is kind


def test_an_event_survives_the_wire():
    event = HubEvent(id=7, source="complaints", kind=EventKind.ASSIGNED, number="LPR-1", status="DISPOSED", at=T)
    assert HubEvent.from_wire(event.wire()) == event


def _run(store: Path, work):  # type: ignore[no-untyped-def]
    async def main():  # type: ignore[no-untyped-def]
        engine = create_store_engine(f"sqlite+aiosqlite:///{store}")
        await create_tables(engine)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def test_events_and_the_position_are_written_together_and_pruned_to_retention(tmp_path):
    async def work(engine):  # type: ignore[no-untyped-def]
        new = [NewEvent("complaints", EventKind.CREATED, f"LPR-{i}", "RECEIVED", T) for i in range(5)]
        async with write_transaction(engine) as conn:
            logged = await append_events(conn, "complaints", new, "41")
        with pytest.raises(RuntimeError):  # a failed transaction moves neither
            async with write_transaction(engine) as conn:
                await append_events(conn, "complaints", new[:1], "99")
                raise RuntimeError("crash before commit")
        async with engine.connect() as conn:
            assert await feed_position(conn, "complaints") == "41"
            assert [e.id for e in await events_after(conn, logged[1].id)] == [e.id for e in logged[2:]]
        async with write_transaction(engine) as conn:
            await prune_events(conn, keep=2)
        async with engine.connect() as conn:
            return logged, await log_bounds(conn)

    logged, bounds = _run(tmp_path / "hub.db", work)
    assert [e.id for e in logged] == [1, 2, 3, 4, 5]
    assert bounds == (4, 5)


def test_one_holder_at_a_time_and_a_takeover_once_the_lease_runs_out(tmp_path):
    async def work(engine):  # type: ignore[no-untyped-def]
        async def take(holder: str, seconds: float = 0.5) -> bool:
            async with write_transaction(engine) as conn:
                return await take_lease(conn, "feeds", holder, seconds=seconds)

        results = [await take("a"), await take("b"), await take("a")]  # a holds; b refused; a renews
        time.sleep(0.6)  # a stops renewing
        results += [await take("b"), await take("a")]
        return results

    assert _run(tmp_path / "hub.db", work) == [True, False, True, True, False]
