"""Shared live results, from the schema's side: subscribers of a case-event
subscription whose every event would be shaped alike may share one run of it.

The transport decides who may share (`hub.events.groups`); the schema only offers the
two hooks it needs on the `Context`:

- a member's `live_group`: once the subscription's own checks have passed (its
  document, purpose and case, quotas, the resolver's arguments), the resolver awaits
  it instead of reading events itself; it returns when the member's part ends;
- a leader's `live_leader` (the group's own run): its resolver charges no quota and
  joins no group, and each event's ledger entries are written for the members it goes
  to (`LiveLeader.readers`), one per member, not for the leader.

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

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from schema.cases import Case

if TYPE_CHECKING:
    from schema.context import Context

#: a member joins its group and follows it; returns when its part of the stream ends
LiveFollow = Callable[[], Awaitable[None]]

#: fields (by type) whose value depends on the caller's subject, beyond its policy;
#: reading `principal.subject` anywhere a subscription can reach must be listed here
#: (tests/schema/test_live_subject.py keeps the list honest)
SUBJECT_BOUND: Mapping[str, frozenset[str]] = {"Application": frozenset({"documents"})}


class LiveLeader(Protocol):
    """The group a leader's context runs for."""

    request_id: str  # the group's own request id: each event's id is appended to it

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


__all__ = ["SUBJECT_BOUND", "Established", "LiveFollow", "LiveLeader", "bound_to_subject"]
