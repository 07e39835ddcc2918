"""Shared live results, from the schema's side: subscribers of a case-event
subscription whose every event would be shaped alike may share one run of it.

The transport decides who may share (`hub.events.groups`); the schema only offers the
two hooks it needs on the `Context`:

- a member's `live_group` (`LiveJoin`): once the subscription's own checks have passed
  (its document, purpose and case, quotas, the resolver's arguments), the resolver
  joins (`Membership`) instead of reading events itself, and follows the group until
  the member's part ends. A member resuming (`after`) first replays the events after
  its id itself, as a subscriber alone does, and takes over from the group only once
  the group's run has read no event beyond the last one it replayed
  (`Membership.take_over`); the group then sends it exactly the events after that id;
- a leader's `live_leader` (the group's own run): its resolver charges no quota and
  joins no group, reads the events after the group's `start` (whatever `after` its
  document gives), tells the group each event it reads (`LiveLeader.reading`), and
  each event's ledger entries are written for the members it goes to
  (`LiveLeader.readers`), one per member, not for the leader.

What a member's own checks found and its events are shaped with (`Established`: the
case of its purpose as its source holds it, a citizen's family card) is part of the
group's key, and the leader takes it over (`Established.put_in_force`) instead of
looking it up again: a member who joins later, when the source says otherwise, is in
another group, and a source that fails after the members' checks fails none of them.

`bound_to_subject` says whether a document selects a field whose value is made for
the caller's subject alone (a document's download link): those are never shared
beyond one subject.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

from graphql import FieldNode, GraphQLError, VariableNode, Visitor, get_operation_ast, parse, visit

from schema.cases import Case

if TYPE_CHECKING:
    from schema.context import Context

#: fields (by type) whose value depends on the caller's subject, beyond its policy;
#: reading `principal.subject` anywhere a subscription can reach must be listed here
#: (tests/schema/test_live_subject.py keeps the list honest)
SUBJECT_BOUND: Mapping[str, frozenset[str]] = {"Application": frozenset({"documents"})}


class Membership(Protocol):
    """A member's place in its group, from joining until it leaves."""

    def take_over(self, replayed: int | None) -> bool:
        """From now on the group sends this member its results of the events after
        `replayed` (None: of every event from now on), unless the group's run has
        already read an event after `replayed`: then False, and the member replays on."""
        ...

    async def follow(self) -> None:
        """Send the group's results until the member leaves, its socket is gone or the
        run ends; raises `SubscriberTooSlow` when the member falls behind."""
        ...


#: a member's way into its group (set by the transport): registers it, not yet sent to
LiveJoin = Callable[[], AbstractAsyncContextManager[Membership]]


class LiveLeader(Protocol):
    """The group a leader's context runs for."""

    request_id: str  # the group's own request id: each event's id is appended to it
    start: int  # the run reads the events after this id, whatever `after` its document gives

    def reading(self, event_id: int) -> None:
        """The run read this event (before shaping it): its result, if any, is this event's."""
        ...

    def readers(self) -> Sequence[Context]:
        """The members the current event goes to (fixed from now on for this event);
        their contexts carry each one's principal, request id, purpose and case."""
        ...


@dataclass(frozen=True, slots=True)
class Established:
    """What a member's own checks established (schema.extensions.personal_data)."""

    case: Case | None  # `Context.checked_case`
    family_number: str | None  # `Presenter.family_number`

    @classmethod
    def of(cls, ctx: Context) -> Established:
        return cls(ctx.checked_case, ctx.presenter.family_number)

    def put_in_force(self, leader: Context) -> None:
        """A leader's context: shaped as its members' were checked."""
        leader.checked_case = self.case
        leader.presenter.family_number = self.family_number


def bound_to_subject(selected: Mapping[str, frozenset[str]]) -> bool:
    return any(selected.get(type_name, frozenset()) & fields for type_name, fields in SUBJECT_BOUND.items())


class _VariableUses(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.uses: Counter[str] = Counter()

    def enter_variable_definition(self, *_: object) -> bool:
        return self.SKIP  # a definition is no use

    def enter_variable(self, node: VariableNode, *_: object) -> None:
        self.uses[node.name.value] += 1


@lru_cache(maxsize=256)
def resume_variable(query: str, operation_name: str | None) -> str | None:
    """The variable that gives the subscription's `after` and nothing else, if any: its
    value only says where a member's own replay starts (a group's run reads from the
    group's start), so members that differ in it alone share a run."""
    try:
        document = parse(query)
    except GraphQLError:
        return None
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    names = [argument.value.name.value for field in operation.selection_set.selections
             if isinstance(field, FieldNode) for argument in field.arguments or ()
             if argument.name.value == "after" and isinstance(argument.value, VariableNode)]
    if len(names) != 1:
        return None
    counter = _VariableUses()
    visit(document, counter)  # fragments too; another operation's same name counts, to be safe
    return names[0] if counter.uses[names[0]] == 1 else None


__all__ = ["SUBJECT_BOUND", "Established", "LiveJoin", "LiveLeader", "Membership", "bound_to_subject",
           "resume_variable"]
