"""Subscribers of different subjects may share one run of a subscription
(`schema.live`) only because nothing an event shows depends on the subject, except
the fields listed in `SUBJECT_BOUND`. Every place the schema reads a caller's subject
is accounted for here, so a new one cannot slip past the grouping unnoticed; and so is
every attribute of a `Context`, the rest of what a run could read of its caller."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import auth.policy
import schema
from schema.context import Context
from schema.live import SUBJECT_BOUND, bound_to_subject
from schema.types.application import Application

ROOT = Path(schema.__file__).parent
POLICY = Path(auth.policy.__file__).parent
READ = re.compile(r"principal\.subject\b")

#: where the schema reads the subject, and why a subscription's event cannot show it
ACCOUNTED = {
    "mutations.py": "mutations: never part of a subscription",
    "intake/mutations.py": "mutations: never part of a subscription",
    "queries.py": "root listings' cursors: root query fields only",
    "types/system.py": "`me`: a root query field only",
    "intake/fields.py": "a document's download link: Application.documents, in SUBJECT_BOUND",
    "ledger_writes.py": "the ledger entry: written per member, with its own subject",
    "live.py": "the rule itself",
}


#: each attribute of a Context: why two members of a group cannot differ in it in a way
#: their events show (in the key, the same for all, or read only for the member itself)
CONTEXT = {
    "env": "the hub's own, one for every caller",
    "principal": "in the key, but its subject (accounted for above)",
    "purpose": "in the key",
    "case": "in the key",
    "checked_case": "in the key (schema.live.Established), taken over by the leader",
    "presenter": "made of the principal; its family card in the key (Established), taken over by the leader",
    "selected": "made of the document, in the key",
    "_today": "read afresh for each event the run shapes (Context.start_event)",
    "address": "read only by quotas, which each member's own checks spend (MEMBER_ONLY)",
    "request_id": "each member's own: its ledger entries and its errors (MEMBER_ONLY)",
    "loaders": "the run's own reads",
    "trace": "the run's own reads",
    "accessed": "the run's notes: ledgered once per member (Context.finish_shared_ledger)",
    "ledger_writes": "the run's notes: ledgered once per member",
    "_noted_since_start": "the run's notes",
    "_ledger_plans": "the run's notes",
    "live_group": "the hook itself: a member's",
    "live_leader": "the hook itself: the leader's",
}

#: attributes a group's members may differ in, and the only modules that read them
MEMBER_ONLY = {
    "address": {"quota.py": "a member's own checks: the leader spends none (schema.subscriptions)"},
    "request_id": {
        "subscriptions.py": "names each event of the run (the leader's suffix goes to each member's id)",
        "extensions/personal_data.py": "the ledger: each member's own id; log lines",
    },
}


def _modules_reading(pattern: re.Pattern[str]) -> set[str]:
    found = {path.relative_to(ROOT).as_posix() for path in ROOT.rglob("*.py") if pattern.search(path.read_text())}
    return found | {f"auth/policy/{path.relative_to(POLICY).as_posix()}" for path in POLICY.rglob("*.py")
                    if pattern.search(path.read_text())}


def test_every_read_of_the_subject_is_accounted_for():
    readers = _modules_reading(READ)
    assert readers <= set(ACCOUNTED), sorted(readers - set(ACCOUNTED))


def test_every_attribute_of_a_context_is_accounted_for():
    assert {f.name for f in dataclasses.fields(Context)} == set(CONTEXT)


def test_what_members_may_differ_in_is_read_only_where_accounted_for():
    for name, allowed in MEMBER_ONLY.items():
        readers = _modules_reading(re.compile(rf"\b(ctx|context|info\.context)\.{name}\b")) - {"context.py"}
        assert readers <= set(allowed), (name, sorted(readers - set(allowed)))


def test_the_fields_made_for_one_subject_exist_and_are_recognised():
    assert "documents" in {f.python_name for f in Application.__strawberry_definition__.fields}
    assert bound_to_subject({"Application": frozenset({"number", "documents"})})
    assert not bound_to_subject({"Application": frozenset({"number", "status"}), "Complaint": frozenset({"number"})})
    assert set(SUBJECT_BOUND) == {"Application"}
