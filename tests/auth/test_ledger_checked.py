from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

from auth.ledger import LedgerDraft
from auth.ledger.store import _checked


def test_checking_a_draft_keeps_every_field_and_sorts_its_collections() -> None:
    draft = LedgerDraft(
        request_id="r", subject="s", roles=["b", "a", "a"], purpose="p", document_hash="h",
        record_type="Citizen", record_key="1471080101800001", fields=["nik", "fullName"],
        masked_fields=["nik"], action="write", detail="status=X", client_id="c", case="k",
        operation_name="op", department="d", time=datetime(2026, 1, 1, tzinfo=UTC),
    )
    checked = _checked(draft)
    for field in fields(LedgerDraft):
        if field.name in ("roles", "fields", "masked_fields"):
            assert getattr(checked, field.name) == tuple(sorted(set(getattr(draft, field.name))))
        else:
            assert getattr(checked, field.name) == getattr(draft, field.name), field.name
