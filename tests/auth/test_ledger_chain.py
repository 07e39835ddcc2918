"""The ledger's canonical form and hashes: what an auditor can recompute by hand."""

from __future__ import annotations

import hashlib
import inspect
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

import auth.ledger
from auth.ledger import (
    GENESIS_HASH,
    LedgerEntry,
    canonical_bytes,
    entry_hash,
    format_time,
)
from auth.ledger.chain import checkpoint_payload, hashed_values
from auth.ledger.model import ENTRY_COLUMNS, HASHED_COLUMNS
from auth.ledger.store import chain, check_drafts
from auth.ledger.testing import sample_draft

MOMENT = datetime(2025, 6, 1, 8, 30, 0, 5, tzinfo=UTC)


def an_entry(**overrides: object) -> LedgerEntry:
    [entry] = chain(
        [sample_draft(**overrides)], head_seq=41, head_hash="a" * 64, now=MOMENT
    )
    return entry


def test_times_have_one_fixed_utc_form_with_microseconds() -> None:
    jakarta = timezone(timedelta(hours=7))

    assert (
        format_time(datetime(2025, 6, 1, 15, 30, 0, 5, tzinfo=jakarta))
        == "2025-06-01T08:30:00.000005Z"
    )
    assert (
        format_time(datetime(2025, 6, 1, tzinfo=UTC)) == "2025-06-01T00:00:00.000000Z"
    )


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        format_time(datetime(2025, 6, 1))


def test_canonical_bytes_are_sorted_compact_utf8_json_of_every_column_but_the_hash() -> (
    None
):
    entry = an_entry(detail="status DIVERIFIKASI — catatan: “ok”", subject="petugas-ñ")
    values = hashed_values(entry)

    canonical = canonical_bytes(values)

    assert (
        canonical
        == json.dumps(
            values, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    )
    assert (
        set(json.loads(canonical))
        == set(HASHED_COLUMNS)
        == set(ENTRY_COLUMNS) - {"entry_hash"}
    )
    assert "—".encode() in canonical and b"\\u" not in canonical


def test_an_auditor_can_recompute_the_hash_with_the_standard_library() -> None:
    entry = an_entry()
    document = {name: getattr(entry, name) for name in HASHED_COLUMNS} | {
        "time": "2025-06-01T08:30:00.000005Z"
    }
    canonical = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()

    assert (
        entry.entry_hash
        == hashlib.sha256(entry.prev_hash.encode() + canonical).hexdigest()
    )


@pytest.mark.parametrize("column", HASHED_COLUMNS)
def test_every_hashed_column_changes_the_hash(column: str) -> None:
    entry = an_entry(client_id="dashboard", case="SC-1", detail="x")
    value = getattr(entry, column)
    if isinstance(value, datetime):
        other: object = value + timedelta(microseconds=1)
    elif isinstance(value, int):
        other = value + 1
    elif isinstance(value, tuple):
        other = (*value, "zzz")
    else:
        other = f"{value}!"

    assert entry_hash(replace(entry, **{column: other})) != entry.entry_hash


def test_entries_of_one_request_are_chained_in_order() -> None:
    entries = chain(
        [sample_draft(), sample_draft(), sample_draft()],
        head_seq=0,
        head_hash=GENESIS_HASH,
        now=MOMENT,
    )

    assert [e.seq for e in entries] == [1, 2, 3]
    assert [e.prev_hash for e in entries] == [
        GENESIS_HASH,
        entries[0].entry_hash,
        entries[1].entry_hash,
    ]
    # the chain's own hashing (no copy of the columns) gives what an auditor recomputes
    assert [entry_hash(e) for e in entries] == [e.entry_hash for e in entries]


def test_a_checkpoint_payload_covers_its_seq_hash_count_and_time() -> None:
    payload = checkpoint_payload(last_seq=12, last_hash="b" * 64, count=12, time=MOMENT)

    assert json.loads(payload) == {
        "count": 12,
        "last_hash": "b" * 64,
        "last_seq": 12,
        "time": "2025-06-01T08:30:00.000005Z",
    }


def test_the_public_surface_is_what_all_says() -> None:
    exported = {
        name
        for name, value in vars(auth.ledger).items()
        if not name.startswith("_")
        and not inspect.ismodule(value)
        and name != "annotations"
    }

    assert set(auth.ledger.__all__) == exported


_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
_maybe = st.none() | _text
_names = st.lists(_text, max_size=3, unique=True).map(lambda values: tuple(sorted(values)))


@st.composite
def _drafts(draw: st.DrawFn) -> list[object]:
    """A request's drafts: shared values with quotes, escapes and non-ASCII text, and
    per-draft changes of any column (so the chain's template is rebuilt mid-request)."""
    shared = {
        "request_id": draw(_text), "subject": draw(_text), "roles": draw(_names), "purpose": draw(_maybe),
        "client_id": draw(_maybe), "case": draw(_maybe), "operation_name": draw(_maybe),
        "department": draw(_maybe), "document_hash": draw(_text),
    }
    drafts = []
    for _ in range(draw(st.integers(1, 5))):
        fields = draw(_names.filter(bool))
        own = {
            "record_type": draw(st.sampled_from(["Citizen", "Application", 'Tipe "x"\\'])),
            "record_key": draw(_text), "fields": fields,
            "masked_fields": tuple(v for v in fields if draw(st.booleans())),
            "action": draw(st.sampled_from(["read", "write"])), "detail": draw(_maybe),
            "time": draw(st.none() | st.just(MOMENT - timedelta(days=1, microseconds=7))),
        }
        drafts.append(sample_draft(**(shared | own | draw(st.fixed_dictionaries({}, optional={"subject": _text})))))
    return drafts


@given(drafts=_drafts(), head_seq=st.integers(0, 10**12))
def test_the_chain_hashes_the_canonical_bytes_of_every_entry(drafts: list[object], head_seq: int) -> None:
    """The chain builds each entry's canonical bytes from a per-request template; they
    must be exactly `canonical_bytes` of the entry, whatever the values."""
    entries = chain(check_drafts(drafts), head_seq=head_seq, head_hash="c" * 64, now=MOMENT)

    for entry in entries:
        assert entry.entry_hash == hashlib.sha256(
            entry.prev_hash.encode() + canonical_bytes(hashed_values(entry))
        ).hexdigest()
    assert [e.seq for e in entries] == list(range(head_seq + 1, head_seq + 1 + len(drafts)))
