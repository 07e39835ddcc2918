"""The live groups' own rules (hub.events.groups), on a run whose results the test
feeds: who shares a key, a slow member overflowing alone, results with errors left
for each member to render, the run stopping with its last member, and a resuming
member taking over from the group exactly after the last event it replayed."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncGenerator
from typing import Any

import orjson
import pytest
from graphql import GraphQLError
from strawberry.types.execution import ExecutionResult

from auth.principal import ANONYMOUS, Principal
from hub.events.groups import LiveGroup, LiveGroups, Shared, group_key
from schema.cases import Case
from schema.events import SubscriberTooSlow
from schema.live import Established, resume_variable

OFFICER = Principal(subject="a", roles=frozenset({"kelurahan_officer"}), department="kel", kelurahan="1471081001")


def _key(principal: Principal = OFFICER, *, selected: dict[str, frozenset[str]] | None = None,
         **changes: Any) -> tuple[object, ...]:
    values = {"schema": "role-schema", "purpose": "population-service", "case": None, "query": "subscription { x }",
              "variables": {"b": 1, "a": None}, "operation_name": None, "established": Established(None, None),
              **changes}
    return group_key(principal=principal, selected=selected or {}, **values)


def test_callers_differing_only_in_subject_share_a_key():
    assert _key(OFFICER) == _key(dataclasses.replace(OFFICER, subject="b"))
    assert _key(variables={"a": None, "b": 1}) == _key()  # the variables' order is no difference


@pytest.mark.parametrize("different", [
    pytest.param({"principal": dataclasses.replace(OFFICER, kelurahan="1471081002")}, id="kelurahan"),
    pytest.param({"principal": dataclasses.replace(OFFICER, roles=frozenset({"analyst"}))}, id="roles"),
    pytest.param({"principal": dataclasses.replace(OFFICER, department="other")}, id="department"),
    pytest.param({"principal": dataclasses.replace(OFFICER, nik="1471080101900001")}, id="nik"),
    pytest.param({"principal": dataclasses.replace(OFFICER, scopes=frozenset({"x"}))}, id="scopes"),
    pytest.param({"principal": dataclasses.replace(OFFICER, client_id="app")}, id="client"),
    pytest.param({"principal": dataclasses.replace(OFFICER, purpose="statistics")}, id="token-purpose"),
    pytest.param({"principal": ANONYMOUS}, id="anonymous"),
    pytest.param({"purpose": "statistics"}, id="purpose"),
    pytest.param({"case": "LPR-1"}, id="case"),
    pytest.param({"established": Established(Case("complaint", "LPR-1", "1471080101900001"), None)},
                 id="case-found"),
    pytest.param({"established": Established(None, "1471080101000001")}, id="family-card"),
    pytest.param({"schema": "another-role-schema"}, id="schema"),
    pytest.param({"query": "subscription { y }"}, id="document"),
    pytest.param({"variables": {"b": 2, "a": None}}, id="variables"),
    pytest.param({"operation_name": "Other"}, id="operation"),
])
def test_callers_differing_in_anything_else_never_share(different):
    assert _key(**different) != _key()


RESUMABLE = "subscription($a: String, $f: CaseUpdateFilter) { caseUpdates(after: $a, filter: $f) { id } }"


def test_where_a_member_resumes_from_is_no_part_of_the_key():
    resumed = _key(query=RESUMABLE, variables={"a": "41", "f": None})
    assert resumed == _key(query=RESUMABLE, variables={"f": None}) == _key(query=RESUMABLE, variables={"a": None,
                                                                                                        "f": None})
    assert resumed != _key(query=RESUMABLE, variables={"a": "41", "f": {"sources": ["LICENSING"]}})


def test_a_resume_point_that_is_not_a_variable_of_its_own_stays_in_the_key():
    twice = "subscription($a: String!) { complaintTracking(number: $a, after: $a) { id } }"
    assert _key(query=twice, variables={"a": "41"}) != _key(query=twice, variables={"a": "42"})
    assert resume_variable(twice, None) is None
    assert resume_variable('subscription { caseUpdates(after: "41") { id } }', None) is None  # in the text
    assert resume_variable(RESUMABLE, None) == "a"


def test_a_document_with_a_field_made_for_one_subject_keeps_subjects_apart():
    documents = {"Application": frozenset({"number", "documents"})}
    assert _key(OFFICER, selected=documents) != _key(dataclasses.replace(OFFICER, subject="b"), selected=documents)


class _Run:
    """A group's run whose results the test feeds; `closed` once it was stopped."""

    def __init__(self) -> None:
        self.results: asyncio.Queue[Any] = asyncio.Queue()
        self.closed = asyncio.Event()
        self.started = 0
        self.entries: dict[int, list[object]] = {}  # event id: the members its ledger entries are for

    async def lead(self, group: LiveGroup) -> AsyncGenerator[Any, None]:
        """Yields what the test puts; an (event id, result) pair is announced as read
        first, and its ledger's readers are taken (`entries`), as a leader does."""
        self.started += 1
        try:
            while True:
                item = await self.results.get()
                if isinstance(item, tuple):
                    group.reading(item[0])
                    self.entries[item[0]] = sorted(group.readers())
                    item = item[1]
                yield item
        finally:
            self.closed.set()

    def event(self, event_id: int) -> None:
        self.results.put_nowait((event_id, ExecutionResult(data={"n": event_id}, errors=None)))


def _groups(limit: int = 1000, position: int = 0) -> LiveGroups:
    return LiveGroups(queue_limit=limit, encode=lambda value: orjson.dumps(value).decode(),
                      position=lambda: position)


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_slow_member_overflows_alone_while_the_others_get_every_result():
    groups, run = _groups(limit=2), _Run()
    fast: list[str | None] = []
    unblock = asyncio.Event()

    async def quick(shared: Shared) -> bool:
        fast.append(shared.payload)
        return True

    async def stuck(shared: Shared) -> bool:
        await unblock.wait()
        return True

    quick_member = asyncio.create_task(groups.follow("k", object(), run.lead, quick))  # type: ignore[arg-type]
    slow_member = asyncio.create_task(groups.follow("k", object(), run.lead, stuck))  # type: ignore[arg-type]
    await _settle()
    assert run.started == 1 and len(groups) == 1 and groups.members == 2
    for n in range(5):
        run.results.put_nowait(ExecutionResult(data={"n": n}, errors=None))
        await _settle()
    unblock.set()
    with pytest.raises(SubscriberTooSlow):
        await slow_member
    assert fast == [f'{{"data":{{"n":{n}}}}}' for n in range(5)]  # encoded once, as the transport would
    assert groups.members == 1 and not run.closed.is_set()
    run.results.put_nowait(ExecutionResult(data={"n": 5}, errors=None))
    await _settle()
    assert fast[-1] == '{"data":{"n":5}}'
    quick_member.cancel()
    await asyncio.gather(quick_member, return_exceptions=True)
    await asyncio.wait_for(run.closed.wait(), 1)  # the last one out stopped the run
    assert len(groups) == 0


async def test_a_result_with_errors_is_left_for_each_member_to_render():
    groups, run = _groups(), _Run()
    got: list[Shared] = []

    async def keep(shared: Shared) -> bool:
        got.append(shared)
        return len(got) < 1

    member = asyncio.create_task(groups.follow("k", object(), run.lead, keep))  # type: ignore[arg-type]
    await _settle()
    failed = ExecutionResult(data=None, errors=[GraphQLError("no", extensions={"code": "LEDGER_UNAVAILABLE"})])
    run.results.put_nowait(failed)
    await asyncio.wait_for(member, 1)  # the member's socket is gone (send said False): it leaves
    assert got[0].payload is None and got[0].result is failed
    await asyncio.wait_for(run.closed.wait(), 1)


async def test_the_members_of_an_event_are_fixed_when_its_ledger_entries_are_written():
    groups, run = _groups(), _Run()
    seen: dict[str, list[object]] = {"first": [], "late": []}

    def sender(name: str):  # type: ignore[no-untyped-def]
        async def send(shared: Shared) -> bool:
            seen[name].append(shared.result.data)
            return True
        return send

    first = asyncio.create_task(groups.follow("k", "ctx-1", run.lead, sender("first")))  # type: ignore[arg-type]
    await _settle()
    group = next(iter(groups._groups.values()))
    assert list(group.readers()) == ["ctx-1"]  # the ledger step of the next result
    late = asyncio.create_task(groups.follow("k", "ctx-2", run.lead, sender("late")))  # type: ignore[arg-type]
    await _settle()
    run.results.put_nowait(ExecutionResult(data={"n": 1}, errors=None))
    await _settle()
    run.results.put_nowait(ExecutionResult(data={"n": 2}, errors=None))
    await _settle()
    assert seen == {"first": [{"n": 1}, {"n": 2}], "late": [{"n": 2}]}  # no entry written for it: not sent
    for task in (first, late):
        task.cancel()
    await asyncio.gather(first, late, return_exceptions=True)
    await asyncio.wait_for(run.closed.wait(), 1)


async def test_a_resuming_member_is_sent_nothing_until_it_takes_over_and_then_only_what_it_did_not_replay():
    groups, run = _groups(position=10), _Run()
    seen: dict[str, list[int]] = {"live": [], "resumed": []}

    def sender(name: str):  # type: ignore[no-untyped-def]
        async def send(shared: Shared) -> bool:
            assert shared.result.data == {"n": shared.event}  # a result carries its event's id
            seen[name].append(shared.event)
            return True
        return send

    async with groups.join("k", "ctx-resumed", run.lead, sender("resumed")) as resumed:
        group = next(iter(groups._groups.values()))
        assert group.start == group.position == 10  # a new group's run starts at the newest event delivered
        live = asyncio.create_task(groups.follow("k", "ctx-live", run.lead, sender("live")))
        await _settle()
        assert groups.members == 2 and run.started == 1
        run.event(11)
        await _settle()
        assert not resumed.take_over(10)  # the run read 11, which it did not replay: it replays on
        assert resumed.take_over(12)  # replayed 11 and 12 itself, while the run was at 11
        following = asyncio.create_task(resumed.follow())
        for event_id in (12, 13, 14):
            run.event(event_id)
            await _settle()
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
    assert seen == {"live": [11, 12, 13, 14], "resumed": [13, 14]}
    # no entry for it while it replays, nor a second one of what it replayed
    assert run.entries == {11: ["ctx-live"], 12: ["ctx-live"], 13: ["ctx-live", "ctx-resumed"],
                           14: ["ctx-live", "ctx-resumed"]}
    live.cancel()
    await asyncio.gather(live, return_exceptions=True)
    await asyncio.wait_for(run.closed.wait(), 1)
    assert len(groups) == 0


async def test_a_member_that_leaves_while_it_replays_stops_the_run_it_started():
    groups, run = _groups(position=3), _Run()
    with pytest.raises(RuntimeError):
        async with groups.join("k", "ctx", run.lead, lambda shared: None):  # type: ignore[arg-type,return-value]
            await _settle()
            assert run.started == 1
            raise RuntimeError("its replay failed (events expired)")
    await asyncio.wait_for(run.closed.wait(), 1)
    assert len(groups) == 0 and groups.members == 0
