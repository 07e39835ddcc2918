"""Each row rule's record keys are derived by running it (`auth.policy._reads`); the
schema layer decides once for records that agree on them. A key missing from them would
hand one record's decision to another: here every rule meets records that differ only
outside `reads`."""

from __future__ import annotations

import random
from typing import Any

import pytest

from auth.policy._rules import ROW_RULES, AtRoot, ReachedAs
from auth.principal import Principal

NIKS = ("1471080101800001", "1471080101800002")
KELURAHAN = ("1471031001", "1471031002")
ABSENT = object()
#: every key a record handed to the rules may carry, and the values worth trying
KEYS: dict[str, tuple[Any, ...]] = {
    "nik": (*NIKS, None),
    "kelurahan_code": (*KELURAHAN, None),
    "family_number": ("1471080101000001", None),
    "applicant_nik": (*NIKS, None),
    "reporter_nik": (*NIKS, None),
    "visibility": ("PUBLIC", "CONFIDENTIAL", "ANONYMOUS", None),
    "reached_as": (*ReachedAs, None),
    "family_of_principal": (True, False, None),
}

PRINCIPALS = [
    Principal(subject="someone", roles=frozenset({"citizen"}), kelurahan=kelurahan, nik=nik)
    for kelurahan in (*KELURAHAN, None)
    for nik in (*NIKS, None)
]


def _records(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        values = {key: rng.choice((*options, ABSENT)) for key, options in KEYS.items()}
        made.append({k: v for k, v in values.items() if v is not ABSENT})
    return made


@pytest.mark.parametrize("rule", sorted(ROW_RULES))
def test_a_rule_answers_alike_for_records_that_differ_only_in_what_it_does_not_read(rule: str) -> None:
    row_rule = ROW_RULES[rule]
    unread = [key for key in KEYS if key not in row_rule.reads]
    for record in _records(400, seed=7):
        for principal in PRINCIPALS:
            answer = row_rule.match(principal, record)
            for key in unread:
                for value in (*KEYS[key], ABSENT):
                    changed = {k: v for k, v in record.items() if k != key}
                    if value is not ABSENT:
                        changed[key] = value
                    assert row_rule.match(principal, changed) == answer, (rule, key, record, principal)


@pytest.mark.parametrize("rule", sorted(ROW_RULES))
def test_a_rule_matches_at_the_root_what_its_at_root_says(rule: str) -> None:
    """`at_root` decides whether a listing's count may come from the source (issue 21):
    SCOPE must mean the rule admits exactly its scope's rows at the root, NEVER none."""
    row_rule = ROW_RULES[rule]
    for record in _records(400, seed=11):
        record = {**record, "reached_as": ReachedAs.ROOT, "family_of_principal": False}
        for principal in PRINCIPALS:
            matched = row_rule.match(principal, record)
            if row_rule.at_root is AtRoot.SCOPE:
                assert matched == row_rule.scope(principal).admits(record), (rule, record, principal)
            elif row_rule.at_root is AtRoot.NEVER:
                assert not matched, (rule, record, principal)
