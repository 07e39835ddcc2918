"""A mask follows the value: one role's masks and hides applied per value kind.

Applied once per role when the policy is loaded, so that shaping a record at request
time reads the same `TypeRule` as before and costs nothing more:

- a role that masks a kind on some field (`mask:`) masks every other field of that kind
  it shows with the same mask (the least revealing one, if it masks the kind in
  several ways);
- a role that hides a kind on some field (a type's `hide:`) hides every other field of
  that kind; hiding beats masking;
- a field the role masks itself keeps its own mask, and a field listed in its type's
  `unmasked:` is shown as the type says, in full: the only way to make an exception,
  visible in the file, and refused where there is nothing to make an exception from;
- a kind that holds another (a NIK holds the birth date, `auth.kinds.CONTAINS`) may not
  be shown in full by a role that masks or hides the kind it holds.

Only a type's own `mask:` and `hide:` say what a role does with a kind: a field left
out of `fields:` is not shown, which says nothing about other fields, and a row
entry's `hide:` is about rows (a confidential complaint's reporter), not about values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Protocol

from auth.kinds import CONTAINS, ValueKind, ValueKinds
from auth.masks import disclosure_rank
from auth.policy._errors import PolicyError
from auth.policy._model import TypeRule


class _Where(Protocol):
    def error(self, message: str, entry: str | None = None) -> PolicyError: ...


@dataclass(frozen=True, slots=True)
class Declared:
    """A type's rule as the file states it, before the kinds are applied."""

    rule: TypeRule
    hidden: frozenset[str]  # the type's `hide:`
    unmasked: frozenset[str]  # the type's `unmasked:`


def apply_kinds(where: _Where, declared: Mapping[str, Declared], kinds: ValueKinds) -> dict[str, TypeRule]:
    """One role's type rules with its masks and hides carried to every field of the
    same kind (see the module docstring)."""
    masked: dict[ValueKind, tuple[str, str]] = {}  # kind -> (mask, the field that set it)
    hidden: dict[ValueKind, str] = {}  # kind -> the field that hid it
    for type_name, entry in sorted(declared.items()):
        for field_name, mask in sorted(entry.rule.masks.items()):
            kind = kinds.get((type_name, field_name))
            if kind is not None and (
                kind not in masked or disclosure_rank(mask) < disclosure_rank(masked[kind][0])
            ):
                masked[kind] = (mask, f"{type_name}.{field_name}")
        for field_name in sorted(entry.hidden):
            kind = kinds.get((type_name, field_name))
            if kind is not None:
                hidden.setdefault(kind, f"{type_name}.{field_name}")
    withheld = set(masked) | set(hidden)
    result: dict[str, TypeRule] = {}
    for type_name, entry in declared.items():
        _check_unmasked(where, type_name, entry, kinds, withheld)
        result[type_name] = _applied(where, type_name, entry, kinds, masked, hidden)
    _check_contained(where, result, declared, kinds, withheld)
    return result


def _holds(kind: ValueKind, withheld: set[ValueKind]) -> bool:
    return kind in withheld or any(inner in withheld for inner in CONTAINS.get(kind, ()))


def _check_unmasked(
    where: _Where, type_name: str, entry: Declared, kinds: ValueKinds, withheld: set[ValueKind]
) -> None:
    label = f"types.{type_name}.unmasked"
    for field_name in sorted(entry.unmasked):
        kind = kinds.get((type_name, field_name))
        if field_name not in entry.rule.fields:
            raise where.error(f"{field_name!r} is not shown", label)
        if field_name in entry.rule.masks:
            raise where.error(f"{field_name!r} is masked here; give it a mask or list it here, not both", label)
        if kind is None:
            raise where.error(f"{field_name!r} carries no value kind: nothing to make an exception from", label)
        if not _holds(kind, withheld):
            raise where.error(
                f"{field_name!r} carries a {kind.name}, which this role neither masks nor hides: "
                "nothing to make an exception from",
                label,
            )


def _applied(
    where: _Where,
    type_name: str,
    entry: Declared,
    kinds: ValueKinds,
    masked: Mapping[ValueKind, tuple[str, str]],
    hidden: Mapping[ValueKind, str],
) -> TypeRule:
    rule = entry.rule
    fields = set(rule.fields)
    masks = dict(rule.masks)
    for field_name in rule.fields:
        kind = kinds.get((type_name, field_name))
        if kind is None or field_name in rule.masks or field_name in entry.unmasked:
            continue
        if kind in hidden:
            fields.discard(field_name)
        elif kind in masked:
            masks[field_name] = masked[kind][0]
    if not fields:
        because = ", ".join(sorted({hidden[k] for k in hidden}))
        raise where.error(f"hiding the kinds of {because} hides every field; leave the type out", f"types.{type_name}")
    if fields == rule.fields and masks == rule.masks:
        return rule
    return replace(rule, fields=frozenset(fields), masks=MappingProxyType(masks))


def _check_contained(
    where: _Where,
    rules: Mapping[str, TypeRule],
    declared: Mapping[str, Declared],
    kinds: ValueKinds,
    withheld: set[ValueKind],
) -> None:
    for type_name, rule in sorted(rules.items()):
        for field_name in sorted(rule.fields - rule.masks.keys() - declared[type_name].unmasked):
            kind = kinds.get((type_name, field_name))
            inner = [k for k in CONTAINS.get(kind, ()) if k in withheld] if kind else []
            if inner:
                raise where.error(
                    f"shows {field_name!r} ({kind.name}) in full, which discloses the "  # type: ignore[union-attr]
                    f"{inner[0].name} this role masks or hides: mask or hide it too, or list it in `unmasked:`",
                    f"types.{type_name}",
                )
