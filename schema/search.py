"""Searching by personal data is reading it: a purpose before, a ledger entry after.

A root listing's filter on personal fields (`schema.inputs.FILTER_READS`, checked
against `schema.access.PERSONAL_FIELDS`) makes the operation one that reads personal
data even when it selects none: `citizens(filter: {bornFrom, bornTo}) { totalCount }`
tells birth dates apart. Before execution `searched_personal` finds such filters in the
document (through fragments and variables), so the personal-data extension asks for a
purpose as it does for a selection. The listing then notes one `search` entry per
search (`note_search`): the listed type, the searched values masked (a NIK as the NIK
mask, a name as initials, a date as its year), the fields matched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    NullValueNode,
    ObjectValueNode,
    SelectionSetNode,
    VariableNode,
    get_operation_ast,
)
from strawberry.utils.str_converters import to_snake_case

from auth.masks import apply_mask
from schema.access import PERSONAL_FIELDS
from schema.context import Context
from schema.errors import LedgerRefused, PurposeRequired
from schema.inputs import FILTER_READS

#: root listing -> its filter input type
LISTINGS: Mapping[str, str] = {"citizens": "CitizenFilter", "applications": "ApplicationFilter",
                               "complaints": "ComplaintFilter"}
_MAX_KEY = 64  # the ledger's record_key column


def personal_reads(input_type: str, given: list[str]) -> frozenset[str]:
    """The personal fields read by the filter fields `given` (GraphQL names)."""
    type_name, fields = FILTER_READS[input_type]
    personal = PERSONAL_FIELDS.get(type_name, frozenset())
    reads = frozenset().union(*(fields[name].reads for name in given if name in fields))
    return reads if personal is None else reads & personal


def searched_personal(
    document: DocumentNode | None, operation_name: str | None, variables: Mapping[str, Any] | None
) -> dict[str, frozenset[str]]:
    """The personal fields the document's root listings filter by, per listed type."""
    operation = get_operation_ast(document, operation_name) if document is not None else None
    if operation is None:
        return {}
    fragments = {d.name.value: d for d in document.definitions if hasattr(d, "selection_set")
                 and d is not operation and getattr(d, "name", None) is not None}
    found: dict[str, frozenset[str]] = {}
    for field in _root_fields(operation.selection_set, fragments, set()):
        input_type = LISTINGS.get(field.name.value)
        if input_type is None:
            continue
        given = _given(field, variables or {})
        reads = personal_reads(input_type, given)
        if reads:
            type_name = FILTER_READS[input_type][0]
            found[type_name] = found.get(type_name, frozenset()) | reads
    return found


def _root_fields(selections: SelectionSetNode, fragments: Mapping[str, Any], seen: set[str]) -> list[FieldNode]:
    fields: list[FieldNode] = []
    for node in selections.selections:
        if isinstance(node, FieldNode):
            fields.append(node)
        elif isinstance(node, InlineFragmentNode):
            fields += _root_fields(node.selection_set, fragments, seen)
        elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
            seen.add(node.name.value)
            fragment = fragments.get(node.name.value)
            if fragment is not None:
                fields += _root_fields(fragment.selection_set, fragments, seen)
    return fields


def _given(field: FieldNode, variables: Mapping[str, Any]) -> list[str]:
    """The filter fields given a value (GraphQL names)."""
    for argument in field.arguments or ():
        if argument.name.value != "filter":
            continue
        value = argument.value
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            return [k for k, v in given.items() if v is not None] if isinstance(given, dict) else []
        if isinstance(value, ObjectValueNode):
            return [
                f.name.value for f in value.fields
                if not isinstance(f.value, NullValueNode)
                and not (isinstance(f.value, VariableNode) and variables.get(f.value.name.value) is None)
            ]
    return []


def note_search(ctx: Context, input_type: str, flt: object) -> None:
    """Check and note a listing's search by personal data (`flt` is the strawberry
    input, None when absent). The purpose was checked before execution; it is checked
    again here so that no document shape can search unchecked (fail closed)."""
    if flt is None:
        return
    type_name, fields = FILTER_READS[input_type]
    given = {name: getattr(flt, to_snake_case(name)) for name in fields}
    given = {name: value for name, value in given.items() if value not in (None, "", [])}
    reads = personal_reads(input_type, list(given))
    if not reads:
        return
    decision = ctx.env.access.purposes.check(ctx.principal, ctx.purpose, ctx.case)
    if not decision.allowed:
        raise PurposeRequired(f"This search reads personal data: {decision.reason}")
    if ctx.env.ledger is None:
        raise LedgerRefused("Personal data is not available: this hub has no access ledger")
    masked: set[str] = set()
    parts: list[str] = []
    for name, value in given.items():
        mask = fields[name].ledger_mask
        if mask is not None:
            value = apply_mask(mask, value)
            masked |= fields[name].reads
        shown = ",".join(str(getattr(v, "value", v)) for v in value) if isinstance(value, list) else str(getattr(value, "value", value))
        parts.append(f"{name}={shown}")
    key = ";".join(parts)[:_MAX_KEY]
    searched = frozenset().union(*(fields[name].reads for name in given))
    ctx.note(type_name, key, searched, frozenset(masked) & searched, action="search",
             detail=f"filter: {', '.join(sorted(given))}")
