"""A refused status change speaks the hub's language: for every status an application
or a complaint can be in, every step its workflow does not allow is refused with
BAD_USER_INPUT, reason TRANSITION_NOT_ALLOWED, the current status, the one asked for
and the allowed next ones, all as the hub's enum names, and nothing of the source's
own vocabulary (its status codes, its error codes and text)."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest

from auth.principal import Principal
from connectors.complaints.codes import STATUS as COMPLAINT_CODES
from connectors.complaints.codes import STATUS_CODES as COMPLAINT_STATUS_CODES
from connectors.licensing.codes import STATUS as APPLICATION_CODES
from connectors.licensing.codes import STATUS_CODES as APPLICATION_STATUS_CODES
from connectors.records import ApplicationStatus, ComplaintStatus
from connectors.workflow import next_statuses
from schema.transitions import STATUS_CHANGE_REFUSED, TRANSITION_NOT_ALLOWED
from tests.schema.harness import Execute
from tests.support.sample_world import World, build_world

LICENSING = Principal("lic-1", frozenset({"licensing_officer"}), department="dpmptsp")
COMPLAINTS = Principal("pengaduan-1", frozenset({"complaint_officer"}), department="pengaduan")
#: what only the sources say: their status codes and the sample systems' error words
SOURCE_WORDS = sorted({*APPLICATION_CODES, *COMPLAINT_CODES, "TRANSISI", "TIDAK_VALID", "tidak"})
UPDATE_APPLICATION = ("mutation($n: String!, $s: ApplicationStatus!) "
                      "{ updateApplicationStatus(number: $n, status: $s) { number status } }")
UPDATE_COMPLAINT = ("mutation($n: String!, $s: ComplaintStatus!) "
                    "{ updateComplaintStatus(number: $n, status: $s) { number status } }")


def source_words_in(body: dict[str, Any]) -> list[str]:
    text = json.dumps({"data": body["data"], "errors": body.get("errors")})
    return [word for word in SOURCE_WORDS if re.search(rf"(?<![A-Za-z_]){word}(?![A-Za-z_])", text)]


@pytest.fixture(params=[*ApplicationStatus, *ComplaintStatus], ids=lambda s: f"{type(s).__name__}.{s.name}")
def current(request: pytest.FixtureRequest) -> ApplicationStatus | ComplaintStatus:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def world(current: ApplicationStatus | ComplaintStatus) -> World:
    """The sample world with its first application or complaint put in `current`."""
    base = build_world()
    if isinstance(current, ApplicationStatus):
        base.applications[0] = dataclasses.replace(
            base.applications[0], status=current, source_status=APPLICATION_STATUS_CODES[current])
    else:
        base.complaints[0] = dataclasses.replace(
            base.complaints[0], status=current, source_status=COMPLAINT_STATUS_CODES[current])
    return base


async def test_every_step_the_workflow_does_not_allow_is_refused_in_the_hubs_words(
    execute: Execute, world: World, current: ApplicationStatus | ComplaintStatus
) -> None:
    if isinstance(current, ApplicationStatus):
        number, query, principal, purpose = (world.applications[0].number, UPDATE_APPLICATION, LICENSING,
                                             "permit-verification")
    else:
        number, query, principal, purpose = (world.complaints[0].number, UPDATE_COMPLAINT, COMPLAINTS,
                                             "complaint-follow-up")
    allowed = next_statuses(current)
    refused = [s for s in type(current) if s not in allowed]
    assert refused  # staying put is never a step
    for wanted in refused:
        body = await execute(query, {"n": number, "s": wanted.name}, principal=principal, purpose=purpose,
                             case=number)
        assert body["data"] is None
        [error] = body["errors"]
        assert error["extensions"] == {
            "code": "BAD_USER_INPUT", "reason": TRANSITION_NOT_ALLOWED, "source": (
                "licensing" if isinstance(current, ApplicationStatus) else "complaints"), "requested": wanted.name,
            "status": current.name, "allowed": [s.name for s in allowed],
        }, error
        message = error["message"]
        assert current.name in message and wanted.name in message
        assert all(s.name in message for s in allowed) if allowed else "final" in message
        assert source_words_in(body) == [], (wanted, body)


def test_the_allowed_next_states_follow_the_domain_workflow() -> None:
    """A few steps of DESIGN.md's workflows, spelled out."""
    assert next_statuses(ApplicationStatus.FILE_CHECK) == (
        ApplicationStatus.FILE_INCOMPLETE, ApplicationStatus.DATA_ENTRY, ApplicationStatus.CANCELLED)
    assert next_statuses(ApplicationStatus.FILE_INCOMPLETE) == (ApplicationStatus.SUBMITTED,
                                                                ApplicationStatus.CANCELLED)
    assert next_statuses(ApplicationStatus.REJECTED) == ()
    assert next_statuses(ComplaintStatus.FOLLOWED_UP) == (ComplaintStatus.REPORTER_RESPONSE,
                                                          ComplaintStatus.RESOLVED)


@pytest.mark.parametrize("current", [ApplicationStatus.FILE_CHECK], ids=["FILE_CHECK"])
async def test_a_step_the_workflow_allows_but_the_source_refuses_names_no_source_words(
    execute: Execute, world: World, sources: Any, current: ApplicationStatus
) -> None:
    """The source is the authority: it may refuse a step the hub's table allows (its
    own rules); the answer still says it in the hub's terms."""
    number = world.applications[0].number
    sources.licensing.transitions = {**sources.licensing.transitions, current: frozenset()}
    body = await execute(UPDATE_APPLICATION, {"n": number, "s": "DATA_ENTRY"}, principal=LICENSING,
                         purpose="permit-verification", case=number)
    [error] = body["errors"]
    assert error["extensions"]["reason"] == STATUS_CHANGE_REFUSED
    assert error["extensions"]["status"] == "FILE_CHECK"
    assert error["extensions"]["allowed"] == ["FILE_INCOMPLETE", "DATA_ENTRY", "CANCELLED"]
    assert source_words_in(body) == []
