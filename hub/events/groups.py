"""Live groups: WebSocket subscribers whose every event would be shaped alike share
one run of their subscription, instead of one run each.

    member (its own operation task)               leader (one task per group)
    its own prologue: document, limits, purpose,  schema.stream(document, variables) with
    case, quotas, the resolver's checks           a context of its own: one EventHub
        │                                         subscriber for the whole group, from
        ├─ join(key): registered, sent nothing    the group's start (the newest event
        ├─ resuming (`after`): replays the events delivered when it was made)
        │  after its id itself (its own shaping,  each event shaped once; ledger entries
        │  its own ledger entries), again until   for every member it goes to (one batch);
        │  the run has read none beyond the last  the `next` payload encoded once
        │  one replayed                           (`Shared`, with its event's id)
        └─ take_over ─► member queue ◄── Shared ──
    takes and sends its own frames, in order;
    behind by more than the queue: SUBSCRIBER_
    BEHIND, alone; leaves on complete, disconnect
    or close; the last one out stops the leader

Resuming without a gap or a repeat: a member joins (keeping the run alive, or starting
it) before it replays, and is sent nothing until it takes over. It takes over only when
the run's position (the newest event the leader has read; the group's start before any)
is at most the last event it replayed, R; from then on it is sent the results of the
events after R and no other (`_Member.after`), and the ledger entries are written for
it of those alone. The run reads every event after its start, in order, and has read
none after R: so each event after R reaches the member from the group, once, and each
up to R came from its own replay. If the run has gone past R, the member replays on (the
log holds every event the run has read) and tries again.

Who may share is decided by `group_key`: the role schema, the principal without its
subject (every other attribute: roles, department, kelurahan, NIK, scopes, client,
fixed purpose), the purpose and case given, what the member's own checks found
(`schema.live.Established`: the case in its source, a citizen's family card; the
leader takes it over instead of looking it up again), the document text, the
variables but the one that gives `after` alone (`schema.live.resume_variable`: where a
member's replay starts is no part of the run) and the operation name. The subject is
kept too when the document selects a field made for
one subject (`schema.live.bound_to_subject`). Anything not in the key keeps callers
apart, so two members of a group are two callers whose results are provably the
same bytes; a citizen (its NIK in the key) shares only with its own other sockets.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Hashable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import orjson
from strawberry.utils.aio import aclosing

from auth.principal import Principal
from hub.events.fanout import SubscriberQueue
from schema.context import Context
from schema.live import Established, bound_to_subject, resume_variable

log = logging.getLogger("simpul.subscriptions")

GroupKey = tuple[Hashable, ...]


def group_key(*, schema: object, principal: Principal, purpose: str | None, case: str | None,
              established: Established, query: str, variables: Mapping[str, Any] | None,
              operation_name: str | None, selected: Mapping[str, frozenset[str]]) -> GroupKey:
    """What must be equal for two subscribers to share a run (see the module's doc)."""
    policy = principal if bound_to_subject(selected) else dataclasses.replace(principal, subject="")
    resume = resume_variable(query, operation_name)
    shared = {name: value for name, value in (variables or {}).items() if name != resume}
    return (schema, policy, purpose, case, established, query,
            orjson.dumps(shared, option=orjson.OPT_SORT_KEYS), operation_name)


class Shared:
    """One result of a group's run, as offered to each member."""

    __slots__ = ("event", "payload", "result")

    def __init__(self, payload: str | None, result: Any, event: int | None = None) -> None:
        self.payload = payload  # the `next` payload, encoded once; None: it has errors, rendered per member
        self.result = result  # strawberry's ExecutionResult
        self.event = event  # the id of the event it shows; None: none (the run failed before reading one)


#: the leader's results: strawberry's stream of the document for the group's context
Lead = Callable[["LiveGroup"], AsyncGenerator[Any, None]]
#: sends one result to one member; False once the member's socket is gone
Send = Callable[[Shared], Awaitable[bool]]


class _Member:
    """One member (implements schema.live.Membership)."""

    __slots__ = ("after", "ctx", "group", "queue", "send", "taken_over")

    def __init__(self, group: LiveGroup, ctx: Context, send: Send, limit: int) -> None:
        self.group = group
        self.ctx = ctx
        self.send = send
        self.queue = SubscriberQueue[Shared](limit)
        self.taken_over = False  # until then the group sends it nothing (it is replaying)
        self.after: int | None = None  # the events up to this id it replayed itself

    def wants(self, event: int | None) -> bool:
        return self.taken_over and (self.after is None or event is None or event > self.after)

    def take_over(self, replayed: int | None) -> bool:
        group = self.group
        if replayed is not None and not group.ended and group.position > replayed:
            return False  # the run has read an event it did not replay: it replays on
        self.after, self.taken_over = replayed, True
        return True

    async def follow(self) -> None:
        group = self.group
        while True:
            for shared in await self.queue.take():
                if not await self.send(shared):
                    return
            if group.ended and not self.queue.pending:
                return


class LiveGroup:
    """One shared run and its members (implements schema.live.LiveLeader)."""

    def __init__(self, groups: LiveGroups, key: GroupKey, start: int) -> None:
        self._groups = groups
        self.key = key
        self.request_id = f"live-{uuid.uuid4().hex[:12]}"
        self.start = start  # the run reads the events after this one
        self.position = start  # the newest event the run has read
        self.event: int | None = None  # the event being shaped; None before the first
        self.members: dict[_Member, None] = {}  # in joining order
        self.ended = False
        self._fixed: list[_Member] | None = None
        self._task: asyncio.Task[None] | None = None

    def start_run(self, lead: Lead) -> None:
        self._task = asyncio.create_task(self._lead(lead), name=f"live-group {self.request_id}")

    def reading(self, event_id: int) -> None:
        self.position = self.event = event_id

    def readers(self) -> Sequence[Context]:
        self._fixed = self._wanting()
        return [member.ctx for member in self._fixed]

    def _wanting(self) -> list[_Member]:
        return [member for member in self.members if member.wants(self.event)]

    def _recipients(self) -> list[_Member]:
        fixed, self._fixed = self._fixed, None
        return fixed if fixed is not None else self._wanting()

    async def _lead(self, lead: Lead) -> None:
        try:
            async with aclosing(lead(self)) as results:
                async for result in results:
                    recipients = self._recipients()
                    payload = None if result.errors else self._groups.encode({"data": result.data})
                    shared = (Shared(payload, result, self.event),)
                    for member in recipients:
                        member.queue.offer(shared)
        except Exception:  # a bug: its members end, as a subscription that failed does
            log.exception("live group %s: the shared run failed", self.request_id)
        finally:
            self._end()

    def _end(self) -> None:
        self.ended = True
        self._groups.discard(self)
        for member in self.members:
            member.queue.ready.set()

    def leave(self, member: _Member) -> None:
        self.members.pop(member, None)
        if not self.members and not self.ended:  # the last one out stops the run
            self.ended = True
            self._groups.discard(self)
            if self._task is not None:
                self._task.cancel()


class LiveGroups:
    """The live groups of this instance, by key."""

    def __init__(self, *, queue_limit: int, encode: Callable[[object], str], position: Callable[[], int]) -> None:
        self._groups: dict[GroupKey, LiveGroup] = {}
        self._queue_limit = queue_limit
        self.encode = encode  # as the transport encodes a payload
        self._position = position  # the newest event delivered here: where a new group's run starts

    def __len__(self) -> int:
        return len(self._groups)

    @property
    def members(self) -> int:
        return sum(len(group.members) for group in self._groups.values())

    def discard(self, group: LiveGroup) -> None:
        if self._groups.get(group.key) is group:
            del self._groups[group.key]

    @asynccontextmanager
    async def join(self, key: GroupKey, ctx: Context, lead: Lead, send: Send) -> AsyncIterator[_Member]:
        """Join the group of `key` (starting it with `lead`, from the newest event
        delivered here, when there is none) until the block ends; the member is sent
        nothing before it takes over (schema.live.Membership)."""
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = LiveGroup(self, key, self._position())
            group.start_run(lead)
        member = _Member(group, ctx, send, self._queue_limit)
        group.members[member] = None
        try:
            yield member
        finally:
            group.leave(member)

    async def follow(self, key: GroupKey, ctx: Context, lead: Lead, send: Send) -> None:
        """Join the group of `key` and send its results from now on, until the member
        leaves (cancelled), its socket is gone, or the run ends. Raises
        `SubscriberTooSlow` when the member falls behind."""
        async with self.join(key, ctx, lead, send) as member:
            member.take_over(None)
            await member.follow()


__all__ = ["GroupKey", "LiveGroup", "LiveGroups", "Shared", "group_key"]
