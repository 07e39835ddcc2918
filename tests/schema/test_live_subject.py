"""Subscribers of different subjects may share one run of a subscription
(`schema.live`) only because nothing an event shows depends on the subject, except
the fields listed in `SUBJECT_BOUND`. Every place the schema reads a caller's subject
is accounted for here, so a new one cannot slip past the grouping unnoticed."""

from __future__ import annotations

import re
from pathlib import Path

import schema
from schema.live import SUBJECT_BOUND, bound_to_subject
from schema.types.application import Application

ROOT = Path(schema.__file__).parent
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


def test_every_read_of_the_subject_is_accounted_for():
    readers = {path.relative_to(ROOT).as_posix() for path in ROOT.rglob("*.py") if READ.search(path.read_text())}
    assert readers <= set(ACCOUNTED), sorted(readers - set(ACCOUNTED))


def test_the_fields_made_for_one_subject_exist_and_are_recognised():
    assert "documents" in {f.python_name for f in Application.__strawberry_definition__.fields}
    assert bound_to_subject({"Application": frozenset({"number", "documents"})})
    assert not bound_to_subject({"Application": frozenset({"number", "status"}), "Complaint": frozenset({"number"})})
    assert set(SUBJECT_BOUND) == {"Application"}
