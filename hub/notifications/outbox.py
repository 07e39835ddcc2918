"""The notification outbox and the citizens' choice, in the hub store.

A case event (hub.events.reader) about a case with a personal applicant or reporter
adds one message to the outbox, in the transaction that logs the event, unless that
citizen turned notifications off: so a message is never lost to a crash between the
two, and never queued twice. The sender (hub.notifications.sender) moves each message
from `pending` to `delivered`, or to `failed` after its last attempt.

Each message's webhook id (`msg_` + a random UUID's hex) is fixed when it is written and
sent on every attempt: unique across hubs and stores (two kecamatan hubs sharing one
gateway, a store rebuilt or restored), so a gateway that drops repeats by id drops only
real repeats. Messages queued before 0007 keep the `ntf_<id>` they may have been sent with.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from connectors.records import ApplicationRecord, ComplaintRecord
from hub.store import write_transaction
from schema.events import EventKind, HubEvent
from schema.types.labels import label_of

notifications_metadata = MetaData()

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
STATES = (PENDING, DELIVERED, FAILED)


def new_webhook_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


outbox_table = Table(
    "notification_outbox",
    notifications_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("webhook_id", String(40), nullable=False, unique=True, index=True),
    Column("event_id", Integer, nullable=False),
    Column("recipient_nik", String(16), nullable=False),
    Column("case_number", String(100), nullable=False),
    Column("body", Text, nullable=False),  # the JSON sent, exactly (the signature covers it)
    Column("state", String(12), nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt", Float, nullable=False),
    Column("last_error", String(200), nullable=True),
    Column("created", Float, nullable=False),
    Column("delivered", Float, nullable=True),
    UniqueConstraint("event_id", "recipient_nik", name="uq_notification_event_recipient"),
)

preferences_table = Table(
    "notification_preferences",
    notifications_metadata,
    Column("nik", String(16), primary_key=True),
    Column("enabled", Boolean, nullable=False),
    Column("updated", Float, nullable=False),
)

_KIND_TEXT = {
    EventKind.CREATED: "diterima",
    EventKind.STATUS_CHANGED: "berubah status",
    EventKind.ASSIGNED: "didisposisikan",
    EventKind.UPDATED: "diperbarui",
}


def _recipient(record: ApplicationRecord | ComplaintRecord) -> str | None:
    return record.applicant_nik if isinstance(record, ApplicationRecord) else record.reporter_nik


def message_body(event: HubEvent, record: ApplicationRecord | ComplaintRecord, nik: str) -> bytes:
    """The webhook's JSON (Standard Webhooks' `type`, `timestamp`, `data`)."""
    what = "Permohonan izin" if isinstance(record, ApplicationRecord) else "Pengaduan"
    text = f"{what} {event.number} {_KIND_TEXT[event.kind]}: {label_of(record.status).id}"
    return orjson.dumps({
        "type": f"case.{event.kind.value.lower()}",
        "timestamp": event.at.isoformat(),
        "data": {
            "recipient": {"nik": nik},
            "case": {"source": event.source, "number": event.number, "status": event.status,
                     "eventId": str(event.id)},
            "message": text,
        },
    })


async def enqueue(conn: AsyncConnection, logged: Sequence[tuple[HubEvent, ApplicationRecord | ComplaintRecord]]) -> int:
    """Queue a message per event whose case has a personal applicant or reporter who did
    not turn notifications off (in the caller's transaction)."""
    wanted = [(event, record, nik) for event, record in logged if (nik := _recipient(record))]
    if not wanted:
        return 0
    niks = sorted({nik for _, _, nik in wanted})
    off = set((await conn.execute(select(preferences_table.c.nik).where(preferences_table.c.nik.in_(niks))
                                  .where(preferences_table.c.enabled.is_(False)))).scalars())
    now = time.time()
    rows = [
        {"webhook_id": new_webhook_id(), "event_id": event.id, "recipient_nik": nik, "case_number": event.number,
         "body": message_body(event, record, nik).decode(), "state": PENDING, "attempts": 0, "next_attempt": now,
         "created": now}
        for event, record, nik in wanted if nik not in off
    ]
    if rows:
        await conn.execute(insert(outbox_table), rows)
    return len(rows)


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    webhook_id: str
    event_id: int
    recipient_nik: str
    case_number: str
    body: str
    attempts: int


async def due_messages(engine: AsyncEngine, *, limit: int = 50) -> list[OutboxMessage]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(outbox_table.c.id, outbox_table.c.webhook_id, outbox_table.c.event_id,
                   outbox_table.c.recipient_nik, outbox_table.c.case_number, outbox_table.c.body, outbox_table.c.attempts)
            .where(outbox_table.c.state == PENDING).where(outbox_table.c.next_attempt <= time.time())
            .order_by(outbox_table.c.id).limit(limit))
        return [OutboxMessage(*row) for row in rows]


async def mark_delivered(engine: AsyncEngine, message_id: int) -> None:
    async with write_transaction(engine) as conn:
        await conn.execute(update(outbox_table).where(outbox_table.c.id == message_id).values(
            state=DELIVERED, attempts=outbox_table.c.attempts + 1, delivered=time.time(), last_error=None))


async def mark_failed_attempt(engine: AsyncEngine, message_id: int, *, error: str, retry_in: float | None) -> None:
    """One failed attempt: retried in `retry_in` seconds, or failed for good when None."""
    values: dict[str, object] = {"attempts": outbox_table.c.attempts + 1, "last_error": error[:200]}
    if retry_in is None:
        values["state"] = FAILED
    else:
        values["next_attempt"] = time.time() + retry_in
    async with write_transaction(engine) as conn:
        await conn.execute(update(outbox_table).where(outbox_table.c.id == message_id).values(**values))


async def outbox_counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(outbox_table.c.state, func.count()).group_by(outbox_table.c.state))
        counts = {state: 0 for state in STATES}
        counts.update({state: int(n) for state, n in rows})
        return counts


async def recent_messages(engine: AsyncEngine, *, state: str | None = None, limit: int = 20) -> list[dict[str, object]]:
    """The newest messages for operators: ids (the webhook id too), case, state, attempts, last error (no NIK)."""
    stmt = select(outbox_table.c.id, outbox_table.c.webhook_id, outbox_table.c.event_id, outbox_table.c.case_number,
                  outbox_table.c.state, outbox_table.c.attempts, outbox_table.c.last_error, outbox_table.c.created,
                  outbox_table.c.delivered).order_by(outbox_table.c.id.desc()).limit(limit)
    if state is not None:
        stmt = stmt.where(outbox_table.c.state == state)
    async with engine.connect() as conn:
        return [dict(row._mapping) for row in await conn.execute(stmt)]


async def notifications_enabled(engine: AsyncEngine, nik: str) -> bool:
    async with engine.connect() as conn:
        found = (await conn.execute(select(preferences_table.c.enabled).where(preferences_table.c.nik == nik))).scalar()
    return True if found is None else bool(found)


async def set_notifications(engine: AsyncEngine, nik: str, enabled: bool) -> bool:
    async with write_transaction(engine) as conn:
        moved = await conn.execute(update(preferences_table).where(preferences_table.c.nik == nik)
                                   .values(enabled=enabled, updated=time.time()))
        if moved.rowcount == 0:
            await conn.execute(insert(preferences_table).values(nik=nik, enabled=enabled, updated=time.time()))
    return enabled


class StorePreferences:
    """The citizens' choices in the hub store (schema.notifications.NotificationPreferences)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def enabled(self, nik: str) -> bool:
        return await notifications_enabled(self._engine, nik)

    async def set(self, nik: str, enabled: bool) -> bool:
        return await set_notifications(self._engine, nik, enabled)
