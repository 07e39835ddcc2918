"""A refused status change, told in the hub's words.

A source that refuses a status change answers in its own vocabulary (the sample
licensing system: `status change PEMERIKSAAN_BERKAS → DIAJUKAN not allowed
[TRANSISI_TIDAK_VALID]`); the connectors keep that for the log only
(`ConnectorError.source_says`). The caller gets the hub's enum names instead: the
record's current status, the one asked for, and the statuses it may move to next
(`connectors.workflow`), with `extensions.reason`:

- `TRANSITION_NOT_ALLOWED`: the workflow has no such step from the current status;
- `STATUS_CHANGE_REFUSED`: the workflow has it, but the source refused it (its own
  rules, e.g. a file still incomplete); or the current status cannot be told.

The current status is told only to a caller who may see it on that record (its row
and its `status` field, under the case in force), read from the source after the
refusal; otherwise the answer names only the status asked for.
"""

from __future__ import annotations

from typing import Any

from connectors import records as r
from connectors.errors import ConnectorError
from connectors.protocols import ComplaintSource, LicensingSource
from connectors.workflow import next_statuses
from schema.context import Context
from schema.errors import BadUserInput
from schema.types.application import Application
from schema.types.complaint import Complaint

TRANSITION_NOT_ALLOWED = "TRANSITION_NOT_ALLOWED"
STATUS_CHANGE_REFUSED = "STATUS_CHANGE_REFUSED"

Status = r.ApplicationStatus | r.ComplaintStatus


def _listed(statuses: tuple[Status, ...]) -> str:
    names = [s.name for s in statuses]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


async def _current(ctx: Context, source: LicensingSource | ComplaintSource, number: str) -> Any:
    operation = "applications_by_number" if isinstance(source, LicensingSource) else "complaints_by_number"
    try:
        with ctx.trace.measure(source.source_id, operation) as measurement:
            if isinstance(source, LicensingSource):
                found: dict[str, Any] = await source.applications_by_number([number])
            else:
                found = await source.complaints_by_number([number])
            record = found.get(number)
            measurement.fetched(() if record is None else (record,))
    except ConnectorError:
        return None
    return record


def _status_visible(ctx: Context, shown_as: type[Application] | type[Complaint], record: Any) -> bool:
    """Whether the caller may see this record's status (nothing is returned or ledgered)."""
    type_name = shown_as.__name__
    case = ctx.checked_case
    if case is not None and not case.covers(type_name, record.number):
        return False
    shaped = ctx.presenter.shape(type_name, shown_as.facts(record), shown_as.values(record, ctx))
    return shaped is not None and shaped.values.get("status") is not None


async def refused_change(
    ctx: Context,
    source: LicensingSource | ComplaintSource,
    shown_as: type[Application] | type[Complaint],
    number: str,
    wanted: Status,
) -> BadUserInput:
    """The error for a status change the source refused (see the module docstring)."""
    noun = shown_as.__name__.lower()
    record = await _current(ctx, source, number)
    if record is None or not _status_visible(ctx, shown_as, record):
        return BadUserInput(
            f"The {source.source_id} source refused to move {noun} {number} to {wanted.name}",
            details={"reason": STATUS_CHANGE_REFUSED, "source": source.source_id, "requested": wanted.name},
        )
    current: Status = record.status
    following = next_statuses(current)
    allowed = [s.name for s in following]
    onward = (f"from {current.name} it may move to {_listed(following)}" if following
              else f"{current.name} is final: it moves no further")
    details = {"source": source.source_id, "requested": wanted.name, "status": current.name, "allowed": allowed}
    if wanted not in following:
        return BadUserInput(
            f"{shown_as.__name__} {number} cannot move from {current.name} to {wanted.name}: {onward}",
            details={"reason": TRANSITION_NOT_ALLOWED, **details},
        )
    return BadUserInput(
        f"The {source.source_id} source refused to move {noun} {number} from {current.name} to "
        f"{wanted.name} (its own rules; {onward})",
        details={"reason": STATUS_CHANGE_REFUSED, **details},
    )


__all__ = ["STATUS_CHANGE_REFUSED", "TRANSITION_NOT_ALLOWED", "refused_change"]
