"""Live groups: WebSocket subscribers whose every event would be shaped alike share
one run of their subscription, instead of one run each.

    member (its own operation task)               leader (one task per group)
    its own prologue: document, limits, purpose,  schema.stream(document, variables) with
    case, quotas, the resolver's checks           a context of its own: one EventHub
        │                                         subscriber for the whole group
        └─ join(key) ─► member queue ◄── Shared ── each event shaped once; ledger entries
    takes and sends its own frames, in order;     for every member it goes to (one batch);
    behind by more than the queue: SUBSCRIBER_    the `next` payload encoded once
    BEHIND, alone; leaves on complete, disconnect
    or close; the last one out stops the leader

Who may share is decided by `group_key`: the role schema, the principal without its
subject (every other attribute: roles, department, kelurahan, NIK, scopes, client,
fixed purpose), the purpose and case given, what the member's own checks found
(`schema.live.Established`: the case in its source, a citizen's family card; the
leader takes it over instead of looking it up again), the document text, the
variables and the operation name. The subject is kept too when the document selects a field made for
one subject (`schema.live.bound_to_subject`). Anything not in the key keeps callers
apart, so two members of a group are two callers whose results are provably the
same bytes; a citizen (its NIK in the key) shares only with its own other sockets.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Any

import orjson
from strawberry.utils.aio import aclosing

from auth.principal import Principal
from hub.events.fanout import SubscriberQueue
from schema.context import Context
from schema.live import Established, bound_to_subject

log = logging.getLogger("simpul.subscriptions")

GroupKey = tuple[Hashable, ...]


def group_key(*, schema: object, principal: Principal, purpose: str | None, case: str | None,
              established: Established, query: str, variables: Mapping[str, Any] | None,
              operation_name: str | None, selected: Mapping[str, frozenset[str]]) -> GroupKey:
    """What must be equal for two subscribers to share a run (see the module's doc)."""
    policy = principal if bound_to_subject(selected) else dataclasses.replace(principal, subject="")
    return (schema, policy, purpose, case, established, query,
            orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS), operation_name)


class Shared:
    """One result of a group's run, as offered to each member."""

    __slots__ = ("payload", "result")

    def __init__(self, payload: str | None, result: Any) -> None:
        self.payload = payload  # the `next` payload, encoded once; None: it has errors, rendered per member
        self.result = result  # strawberry's ExecutionResult


#: the leader's results: strawberry's stream of the document for the group's context
Lead = Callable[["LiveGroup"], AsyncGenerator[Any, None]]
#: sends one result to one member; False once the member's socket is gone
Send = Callable[[Shared], Awaitable[bool]]


class _Member:
    __slots__ = ("ctx", "queue")

    def __init__(self, ctx: Context, limit: int) -> None:
        self.ctx = ctx
        self.queue = SubscriberQueue[Shared](limit)


class LiveGroup:
    """One shared run and its members (implements schema.live.LiveLeader)."""

    def __init__(self, groups: LiveGroups, key: GroupKey) -> None:
        self._groups = groups
        self.key = key
        self.request_id = f"live-{uuid.uuid4().hex[:12]}"
        self.members: dict[_Member, None] = {}  # in joining order
        self.ended = False
        self._fixed: list[_Member] | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self, lead: Lead) -> None:
        self._task = asyncio.create_task(self._lead(lead), name=f"live-group {self.request_id}")

    def readers(self) -> Sequence[Context]:
        self._fixed = list(self.members)
        return [member.ctx for member in self._fixed]

    def _recipients(self) -> list[_Member]:
        fixed, self._fixed = self._fixed, None
        return fixed if fixed is not None else list(self.members)

    async def _lead(self, lead: Lead) -> None:
        try:
            async with aclosing(lead(self)) as results:
                async for result in results:
                    recipients = self._recipients()
                    payload = None if result.errors else self._groups.encode({"data": result.data})
                    shared = (Shared(payload, result),)
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

    def __init__(self, *, queue_limit: int, encode: Callable[[object], str]) -> None:
        self._groups: dict[GroupKey, LiveGroup] = {}
        self._queue_limit = queue_limit
        self.encode = encode  # as the transport encodes a payload

    def __len__(self) -> int:
        return len(self._groups)

    @property
    def members(self) -> int:
        return sum(len(group.members) for group in self._groups.values())

    def discard(self, group: LiveGroup) -> None:
        if self._groups.get(group.key) is group:
            del self._groups[group.key]

    async def follow(self, key: GroupKey, ctx: Context, lead: Lead, send: Send) -> None:
        """Join the group of `key` (starting it with `lead` when there is none) and send
        its results until the member leaves (cancelled), its socket is gone, or the run
        ends. Raises `SubscriberTooSlow` when the member falls behind."""
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = LiveGroup(self, key)
            group.start(lead)
        member = _Member(ctx, self._queue_limit)
        group.members[member] = None
        try:
            while True:
                for shared in await member.queue.take():
                    if not await send(shared):
                        return
                if group.ended and not member.queue.pending:
                    return
        finally:
            group.leave(member)


__all__ = ["GroupKey", "LiveGroup", "LiveGroups", "Shared", "group_key"]
