"""The root subscriptions: live updates of cases and of the service metrics.

Each event is shaped for the subscriber exactly as a query shapes the same record
(`Application.of` / `Complaint.of`: row rules, masks, hidden fields, the case in
force), so a subscriber sees of an event only what a query would show it now; an event
about a record it may not see is not sent at all. Personal records shown are noted on
the subscription's context and ledgered before the event is sent
(schema.extensions.personal_data), one entry per record per event, like a query.

`after: <event id>` first replays the retained events after that id, then goes on live;
ids are the `id` of `CaseEvent`, growing, one sequence for all sources.

Over WebSocket, subscribers of the case-event subscriptions (all but
`serviceMetricsUpdated`) whose results are provably identical (same role schema,
policy attributes, purpose and case, document, variables but the one giving `after`)
share one run (`schema.live`, `hub.events.groups`): each still passes its own checks
(the document, its purpose and case, quotas, the arguments here), then its group's
leader shapes each event once and writes one ledger entry per member. A member with
`after` first replays the events after it itself (shaped for it, its own ledger
entries), then takes the group's events after the last one it replayed. Other
transports run alone, as described above.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from auth.policy import ReachedAs
from connectors.records import ApplicationRecord, ComplaintRecord
from schema.analytics.metrics import ServiceMetrics, service_metrics
from schema.analytics.period import PeriodInput, checked_period
from schema.cases import require_in_case
from schema.context import Context
from schema.errors import BadUserInput, Forbidden, RateLimited, ServiceUnavailable
from schema.events import (
    COMPLAINTS,
    LICENSING,
    Delivery,
    EventKind,
    EventsExpired,
    EventStream,
    SubscriberTooSlow,
)
from schema.inputs import checked_number
from schema.live import LiveLeader, Membership
from schema.quota import TRACKING, spend
from schema.types.application import Application
from schema.types.complaint import Complaint

#: dashboards get at most one recomputation per this many seconds
METRICS_MIN_INTERVAL = 1.0

CaseEventKind = strawberry.enum(EventKind, name="CaseEventKind", description="What changed in a case.")


@strawberry.enum(description="The source system of a case.")
class CaseSource(Enum):
    LICENSING = LICENSING
    COMPLAINTS = COMPLAINTS


@strawberry.type(description="One change of one application or complaint, as the subscriber may see it.")
class CaseEvent:
    id: strawberry.ID = strawberry.field(description="Resume after this event with `after`.")
    kind: CaseEventKind  # type: ignore[valid-type]
    source: CaseSource
    number: str
    status: str = strawberry.field(description="The case's status code after the change.")
    at: datetime = strawberry.field(description="When the source recorded the change.")
    application: Application | None = strawberry.field(
        default=None, description="The application now (licensing events).")
    complaint: Complaint | None = strawberry.field(default=None, description="The complaint now (complaint events).")


@strawberry.input(description="Which case events an officer follows; every list matches any of its values.")
class CaseUpdateFilter:
    sources: list[CaseSource] | None = None
    kelurahan: list[str] | None = None
    statuses: list[str] | None = None


def _stream(ctx: Context) -> EventStream:
    stream = ctx.env.events
    if stream is None:
        raise ServiceUnavailable("events", "Live updates are not configured on this hub")
    return stream


def _after(after: str | None) -> int | None:
    if after is None:
        return None
    if not after.isdigit() or len(after) > 18:
        raise BadUserInput("`after` is not an event id", details={"argument": "after"})
    return int(after)


async def _deliveries(ctx: Context, after: str | None) -> AsyncIterator[Delivery]:
    """The events from now on (or after `after`). A member of a live group (`schema.live`:
    over WebSocket) reads no live event itself: its group's leader shapes each event once
    and the member's frames are sent while it awaits; it gets nothing here but, when it
    resumes, the events it replays itself first. A leader reads from its group's start."""
    stream = _stream(ctx)
    try:
        if ctx.live_leader is not None:
            async for delivery in _led(stream, ctx.live_leader):
                yield delivery
            return
        start = _after(after)
        if ctx.live_group is None:
            async for delivery in stream.subscribe(after=start):
                yield delivery
            return
        async with ctx.live_group() as member:
            if start is not None:
                async for delivery in _replayed(ctx, stream, start, member):
                    yield delivery
            else:
                member.take_over(None)
            await member.follow()
    except EventsExpired as exc:
        raise BadUserInput(str(exc), details={"argument": "after", "oldestRetained": str(exc.oldest)}) from exc
    except SubscriberTooSlow as exc:
        raise RateLimited(f"{exc}", details={"reason": "SUBSCRIBER_BEHIND", "retryAfter": 1}) from exc


async def _led(stream: EventStream, leader: LiveLeader) -> AsyncIterator[Delivery]:
    """A group's run: the events after the group's start, each announced before it is shaped."""
    async for delivery in stream.subscribe(after=leader.start):
        leader.reading(delivery.event.id)
        yield delivery


async def _replayed(ctx: Context, stream: EventStream, after: int, member: Membership) -> AsyncIterator[Delivery]:
    """A resuming member's own replay, with its own shaping and ledger entries, as a
    subscriber alone replays: the events after `after` up to the newest logged, again
    until its group's run has read none beyond the last one replayed; then the group
    sends it the rest. It joined before replaying, so no event falls in between."""
    base, last = ctx.request_id, after
    while True:
        async for delivery in stream.replay(after=last):
            last = delivery.event.id
            yield delivery
        ctx.start_event(base)  # the group's entries for it name its own request id
        if member.take_over(last):
            return


def shape_event(ctx: Context, delivery: Delivery, *, reached_as: ReachedAs = ReachedAs.ROOT) -> CaseEvent | None:
    """The event as `ctx`'s principal may see it, or None when it may not see the case."""
    record, event = delivery.record, delivery.event
    if record is None:
        return None
    application = complaint = None
    if isinstance(record, ApplicationRecord):
        application = Application.of(record, ctx, reached_as=reached_as)
        if application is None:
            return None
    elif isinstance(record, ComplaintRecord):
        complaint = Complaint.of(record, ctx, reached_as=reached_as)
        if complaint is None:
            return None
    return CaseEvent(id=strawberry.ID(str(event.id)), kind=event.kind, source=CaseSource(event.source),
                     number=event.number, status=event.status, at=event.at, application=application,
                     complaint=complaint)


async def _shaped(ctx: Context, after: str | None, wanted: Callable[[Delivery], bool],
                  reached_as: ReachedAs = ReachedAs.ROOT,
                  shown: Callable[[CaseEvent], bool] = lambda event: True) -> AsyncGenerator[CaseEvent, None]:
    base = ctx.request_id
    async for delivery in _deliveries(ctx, after):
        if not wanted(delivery):
            continue
        ctx.start_event(f"{base}:{delivery.event.id}")  # each event's ledger entries name it
        shaped = shape_event(ctx, delivery, reached_as=reached_as)
        if shaped is not None and shown(shaped):
            yield shaped


def _owned_by(nik: str) -> Callable[[Delivery], bool]:
    def wanted(delivery: Delivery) -> bool:
        record = delivery.record
        if isinstance(record, ApplicationRecord):
            return record.applicant_nik == nik
        if isinstance(record, ComplaintRecord):
            return record.reporter_nik == nik
        return False

    return wanted


def _matching(flt: CaseUpdateFilter | None) -> Callable[[CaseEvent], bool]:
    """The filter, matched against the event as shaped for the caller: a kelurahan the
    caller may not see on a case matches no filter (the filter is no side door)."""
    if flt is None:
        return lambda event: True
    sources = {s.value for s in flt.sources} if flt.sources else None
    kelurahan = set(flt.kelurahan) if flt.kelurahan else None
    statuses = set(flt.statuses) if flt.statuses else None

    def shown(event: CaseEvent) -> bool:
        if sources is not None and event.source.value not in sources:
            return False
        if statuses is not None and event.status not in statuses:
            return False
        if kelurahan is None:
            return True
        case = event.application or event.complaint
        place = getattr(case, "kelurahan", None)
        return place is not None and place.code in kelurahan

    return shown


async def _tracking(ctx: Context, number: str, after: str | None, source: str,
                    type_name: str) -> AsyncGenerator[CaseEvent, None]:
    """One case's events, shown as tracking shows it (counted like a tracking look-up)."""
    number = checked_number(number)
    if ctx.live_leader is None:  # a group's leader runs for members that paid already
        await spend(ctx, TRACKING, what="tracking look-ups")
    require_in_case(ctx, type_name, number, type_name.lower())
    wanted = lambda d: d.event.source == source and d.event.number == number  # noqa: E731
    async for event in _shaped(ctx, after, wanted, ReachedAs.TRACKING):
        yield event


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Live status of one application, by its number; no personal data "
                             "(the same as `trackApplication`).")
    async def application_tracking(
        self, info: Info[Context, None], number: str, after: str | None = None
    ) -> AsyncGenerator[CaseEvent, None]:
        async for event in _tracking(info.context, number, after, LICENSING, "Application"):
            yield event

    @strawberry.subscription(description="Live status of one complaint, by its ticket number; a confidential "
                             "complaint shows only its progress (the same as `trackComplaint`).")
    async def complaint_tracking(
        self, info: Info[Context, None], number: str, after: str | None = None
    ) -> AsyncGenerator[CaseEvent, None]:
        async for event in _tracking(info.context, number, after, COMPLAINTS, "Complaint"):
            yield event

    @strawberry.subscription(description="Changes of the signed-in citizen's own applications and complaints.")
    async def my_cases(self, info: Info[Context, None], after: str | None = None) -> AsyncGenerator[CaseEvent, None]:
        ctx = info.context
        nik = ctx.principal.nik
        if nik is None:
            raise Forbidden("myCases needs a citizen's token (with a NIK)")
        async for event in _shaped(ctx, after, _owned_by(nik)):
            yield event

    @strawberry.subscription(description="Changes of the cases an officer may read (its row rules, and the case "
                             "of its purpose when the purpose has one), optionally filtered.")
    async def case_updates(
        self, info: Info[Context, None], filter: CaseUpdateFilter | None = None,  # noqa: A002
        after: str | None = None,
    ) -> AsyncGenerator[CaseEvent, None]:
        ctx = info.context
        async for event in _shaped(ctx, after, lambda delivery: True, shown=_matching(filter)):
            yield event

    @strawberry.subscription(description="The service metrics now, then again whenever cases change (at most "
                             "once a second), with the same rules as `serviceMetrics`.")
    async def service_metrics_updated(
        self,
        info: Info[Context, None],
        period: PeriodInput | None = None,
        kelurahan: list[str] | None = None,
        permit_type: list[str] | None = None,
        category: list[str] | None = None,
    ) -> AsyncGenerator[ServiceMetrics, None]:
        ctx = info.context
        stream = _stream(ctx)

        async def now() -> ServiceMetrics:
            days = checked_period(period, today=ctx.env.today())
            return await service_metrics(ctx, days=days, kelurahan=kelurahan, permit_type=permit_type,
                                         category=category)

        yield await now()
        last = time.monotonic()
        async for _ in stream.changed():
            wait = METRICS_MIN_INTERVAL - (time.monotonic() - last)
            if wait > 0:
                await asyncio.sleep(wait)
            last = time.monotonic()
            yield await now()


__all__ = ["CaseEvent", "CaseSource", "CaseUpdateFilter", "Subscription", "shape_event"]
