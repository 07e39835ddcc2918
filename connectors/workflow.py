"""The workflows of applications and complaints in the hub's terms: which status may
follow which (DESIGN.md, "Domain facts"). The sources are the authority on a status
change; the hub uses these tables to tell a caller, in its own words, why a change
was refused and where the record may go next (`schema.transitions`)."""

from __future__ import annotations

from connectors.complaints.codes import TRANSITIONS as COMPLAINT_TRANSITIONS
from connectors.licensing.codes import TRANSITIONS as APPLICATION_TRANSITIONS
from connectors.records import ApplicationStatus, ComplaintStatus


def next_statuses(status: ApplicationStatus | ComplaintStatus) -> tuple[ApplicationStatus | ComplaintStatus, ...]:
    """The statuses a record in `status` may move to, in workflow order (none: final)."""
    table = APPLICATION_TRANSITIONS if isinstance(status, ApplicationStatus) else COMPLAINT_TRANSITIONS
    following = table.get(status, frozenset())  # type: ignore[call-overload]
    return tuple(s for s in type(status) if s in following)


__all__ = ["next_statuses"]
