"""Issue 21, property (b), the cursor part: a cursor holds no NIK even once decoded.

The raw-text check of test_nik_disclosure_property cannot see a NIK inside a base64
cursor; this one decodes every cursor the way anyone could (URL-safe base64, repeatedly,
JSON strings inside included) and looks for 16-digit numbers the response does not show.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

import pytest

from tests.schema.harness import Execute
from tests.schema.test_nik_disclosure_property import CALLERS, CURSOR_FIELDS, shown_in_full

SIXTEEN_DIGITS = re.compile(r"(?<!\d)\d{16}(?!\d)")
LISTINGS = {
    "citizens": "{ citizens(first: 3) { edges { cursor node { fullName } } pageInfo { startCursor endCursor } } }",
    "applications": "{ applications(first: 3) { edges { cursor node { number } } pageInfo { startCursor endCursor } } }",
    "complaints": "{ complaints(first: 3) { edges { cursor node { number } } pageInfo { startCursor endCursor } } }",
}


def unwrap(text: str, depth: int = 0) -> str:
    """Everything a string reveals when base64 and JSON layers are peeled off."""
    found = [text]
    if depth < 4:
        try:
            decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("utf-8")
        except (binascii.Error, UnicodeError, ValueError):
            decoded = ""
        if decoded and decoded.isprintable():
            found.append(unwrap(decoded, depth + 1))
            try:
                inner = json.loads(decoded)
            except ValueError:
                inner = None
            if isinstance(inner, dict):
                found += [unwrap(v, depth + 1) for v in inner.values() if isinstance(v, str)]
    return " ".join(found)


def cursors(node: Any) -> list[str]:
    if isinstance(node, list):
        return [c for item in node for c in cursors(item)]
    if isinstance(node, dict):
        return [v for k, v in node.items() if k in CURSOR_FIELDS and isinstance(v, str)] + [
            c for v in node.values() if isinstance(v, (dict, list)) for c in cursors(v)
        ]
    return []


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: f"{c[0]}-{c[1].subject}")
async def test_no_cursor_holds_a_nik_the_response_does_not_show(caller: Any, execute: Execute) -> None:
    role, principal, purpose, case = caller
    for query in LISTINGS.values():
        body = await execute(query, principal=principal, purpose=purpose, case=case)
        shown = shown_in_full(body.get("data"), set())
        for cursor in cursors(body.get("data")):
            hidden = [n for n in SIXTEEN_DIGITS.findall(unwrap(cursor)) if n not in shown]
            assert not hidden, (role, query, cursor, hidden)
