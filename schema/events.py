"""Hub events as the GraphQL layer sees them: what changed in a source (a case created,
its status changed, assigned), with the id a subscriber resumes from, and the stream
the subscriptions read (`EventStream`; the hub provides it: hub.events).

An event names a case and its status, never a person: the record itself is read from
its source by the instance that delivers the event (`Delivery.record`) and shaped for
each subscriber by the same policy as a query (schema.subscriptions).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Protocol

from connectors.records import ApplicationRecord, ComplaintRecord

LICENSING = "licensing"
COMPLAINTS = "complaints"
EVENT_SOURCES = (LICENSING, COMPLAINTS)


class EventKind(Enum):
    CREATED = "CREATED"  # a new application or complaint
    STATUS_CHANGED = "STATUS_CHANGED"
    ASSIGNED = "ASSIGNED"  # a complaint disposed to a unit
    UPDATED = "UPDATED"  # changed without a new status (a follow-up, a requirement, ...)


@dataclass(frozen=True, slots=True)
class HubEvent:
    """One change of one case. `id` grows with every event the hub reads (one sequence
    for all sources), so "every event after N" is a resume point."""

    id: int
    source: str  # LICENSING or COMPLAINTS
    kind: EventKind
    number: str  # the application or complaint number
    status: str  # the hub's status code after the change
    at: datetime  # when the source recorded the change

    def wire(self) -> dict[str, str]:
        return {"id": str(self.id), "source": self.source, "kind": self.kind.value, "number": self.number,
                "status": self.status, "at": self.at.isoformat()}

    @classmethod
    def from_wire(cls, fields: dict[str, str]) -> HubEvent:
        return cls(id=int(fields["id"]), source=fields["source"], kind=EventKind(fields["kind"]),
                   number=fields["number"], status=fields["status"], at=datetime.fromisoformat(fields["at"]))


@dataclass(frozen=True, slots=True)
class Delivery:
    """An event with its case as the source holds it now (None: the case is gone, or its
    source could not be read; such an event reaches no subscriber that shows records)."""

    event: HubEvent
    record: ApplicationRecord | ComplaintRecord | None


class EventsExpired(Exception):
    """`after` names an event older than the retained ones: what came between is gone."""

    def __init__(self, oldest: int) -> None:
        super().__init__(f"events after that id are no longer retained; the oldest retained is {oldest}")
        self.oldest = oldest


class SubscriberTooSlow(Exception):
    """The subscriber did not take its events as fast as they came; it may resume with `after`."""


class EventStream(Protocol):
    last_id: int  # the newest event delivered to this instance's subscribers

    def subscribe(self, *, after: int | None = None) -> AsyncIterator[Delivery]:
        """Every event after `after` still retained (raises EventsExpired when some are
        gone), then every new one, each once and in id order; raises SubscriberTooSlow
        when the subscriber falls too far behind."""
        ...

    def replay(self, after: int) -> AsyncIterator[Delivery]:
        """Every event after `after` still retained, in id order, up to the newest one
        logged (raises EventsExpired when some are gone); then it ends."""
        ...

    def changed(self) -> AsyncIterator[None]:
        """Yields whenever events arrived (for aggregates recomputed on change)."""
        ...


__all__ = ["COMPLAINTS", "EVENT_SOURCES", "LICENSING", "Delivery", "EventKind", "EventStream",
           "EventsExpired", "HubEvent", "SubscriberTooSlow"]
