"""Reading and validating a policy file against the schema's catalogue.

Format (YAML)::

    version: 1
    other_types: visible        # types no role mentions (PageInfo, ...): visible | hidden
    roles:
      kelurahan_officer:
        description: ...
        extends: [other_role]   # optional: as if the principal held those roles too
        types:
          Kelurahan: "*"        # all fields, all rows
          PermitType: [code, name]
          Citizen:
            fields: "*"         # or a list of field names
            hide: [religion, bloodType, disability]
            mask: {nik: nik, birthDate: year}
            unmasked: [...]     # fields shown in full although their value kind is masked
                                # or hidden elsewhere in this role (see _kinds.py)
            rows: own_kelurahan # a rule, a shorthand, or a list of entries (any one allows):
                                #   - rule_name
                                #   - {rule: [rule_a, rule_b], fields: [..]}  (all must match;
                                #     `fields` or `hide` narrow what such a row shows)
            deny: reveals_protected_reporter   # rules that refuse a row first
        query: [me, citizen, citizens]          # or "*"
        mutation: []
        limits: {max_query_cost: 2000, max_depth: 10, introspection: true}
                    # also max_document_length (characters), max_tokens, max_definitions,
                    # max_selections, max_repeated_fields (see schema/extensions/shape.py)
        persisted_only: true    # optional: only operations pushed with `hub operations
                                # push` (a principal is held to it when every role it
                                # holds says so; extending such a role does not)
    persisted_only_clients: [svc-dashboard]   # optional: token clients (service accounts)
                                              # that may run pushed operations only

`rows` defaults to `all`. The schema layer hands in, with the catalogue, the value kind
of each field carrying personal values (`kinds`); a role's masks and hides then follow
the kind to every field of it the role shows (`auth.policy._kinds`). Every problem
raises `PolicyError` naming the file, the role and the entry; nothing is checked later,
per request.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from auth.kinds import ValueKinds
from auth.masks import MASKS
from auth.policy._errors import PolicyError
from auth.policy._fragments import PolicyFragment, merge_fragments
from auth.policy._kinds import Declared, apply_kinds
from auth.policy._model import (
    ROOT_TYPES,
    Catalogue,
    Limits,
    Policy,
    RolePolicy,
    RowBinding,
    TypeRule,
)
from auth.policy._reads import RuleReadsError
from auth.policy._rules import ROW_MACROS, ROW_RULES, RowRule
from auth.policy._yaml import read_yaml

DEFAULT_POLICY_FILE = "default_policy.yaml"

_TOP_KEYS = frozenset({"version", "description", "other_types", "roles", "persisted_only_clients"})
_ROLE_KEYS = frozenset({"description", "extends", "types", "limits", "persisted_only", *ROOT_TYPES.values()})
_TYPE_KEYS = frozenset({"fields", "hide", "mask", "unmasked", "rows", "deny"})
_BINDING_KEYS = frozenset({"rule", "fields", "hide"})
_LIMIT_KINDS: Mapping[str, type] = MappingProxyType(
    {
        "max_query_cost": int,
        "max_depth": int,
        "introspection": bool,
        "max_document_length": int,
        "max_tokens": int,
        "max_definitions": int,
        "max_selections": int,
        "max_repeated_fields": int,
    }
)
_OTHER_TYPES = {"visible": True, "hidden": False}


def load_policy(
    path: Path | None = None,
    *,
    catalogue: Catalogue,
    kinds: ValueKinds,
    roles: Iterable[str] | None = None,
    required: Iterable[str] = (),
    fragments: Iterable[PolicyFragment] = (),
) -> Policy:
    """Load and validate a policy file (None: the one shipped with the hub), with the
    grants of installed plug-ins' `fragments` added (auth.policy._fragments).

    The file is the one list of roles. `catalogue` maps each GraphQL type name (root
    types included) to its field names; `kinds` names the value kind of every field
    carrying personal values; `required` are the roles the code names (the anonymous
    caller, the operator, ...), each of which the file must define; `roles` is the exact
    set of roles the file must define (None: any set)."""
    if path is None:
        resource = resources.files("auth").joinpath(DEFAULT_POLICY_FILE)
        with resources.as_file(resource) as real_path:
            data = read_yaml(real_path, display_name=DEFAULT_POLICY_FILE)
        source = DEFAULT_POLICY_FILE
    else:
        source = str(path)
        data = read_yaml(Path(path), display_name=source)
    data = merge_fragments(data, fragments, source=source)
    return parse_policy(data, catalogue=catalogue, kinds=kinds, roles=roles, required=required, source=source)


def parse_policy(
    data: Any,
    *,
    catalogue: Catalogue,
    kinds: ValueKinds,
    roles: Iterable[str] | None = None,
    required: Iterable[str] = (),
    source: str = "<policy>",
) -> Policy:
    """Validate already-parsed policy data (see the module docstring for the format)."""
    cat = _catalogue(catalogue, source)
    _check_kinds(kinds, cat, source)
    top = _Where(source)
    if not isinstance(data, dict):
        raise top.error("the file must hold a mapping with `version` and `roles`")
    top.keys(data, _TOP_KEYS, "top level")
    if data.get("version") != 1:
        raise top.error(f"version: expected 1, got {data.get('version')!r}")
    other = data.get("other_types", "hidden")
    if other not in _OTHER_TYPES:
        raise top.error(f"other_types: expected 'visible' or 'hidden', got {other!r}")
    role_data = data.get("roles")
    if not isinstance(role_data, dict) or not role_data:
        raise top.error("roles: expected a mapping of role name to its rules")
    for name in role_data:
        if not isinstance(name, str):
            raise top.error(f"roles: role names must be strings, got {name!r}")
    if roles is not None:
        known = frozenset(roles)
        for name in role_data:
            if name not in known:
                raise _Where(source, name).error(
                    f"unknown role (known roles: {', '.join(sorted(known))})"
                )
        missing = sorted(known - role_data.keys())
        if missing:
            raise top.error(f"roles: missing {', '.join(map(repr, missing))}")
    parsed = {
        name: _role(_Where(source, name), name, body, cat, kinds, role_data.keys())
        for name, body in role_data.items()
    }
    _check_extends(source, parsed)
    missing = sorted(frozenset(required) - role_data.keys())
    if missing:  # after the roles' own errors, which name the role a broken entry is in
        raise top.error(f"roles: missing {', '.join(map(repr, missing))} (the hub's code relies on it)")
    return Policy(
        source=source,
        role_policies=MappingProxyType(parsed),
        catalogue=MappingProxyType(cat),
        other_types_visible=_OTHER_TYPES[other],
        persisted_only_clients=frozenset(_word_list(top, data.get("persisted_only_clients", []),
                                                    "persisted_only_clients")),
    )


class _Where:
    """Where in the file we are, for messages."""

    def __init__(self, file: str, role: str | None = None) -> None:
        self.file = file
        self.role = role

    def error(self, message: str, entry: str | None = None) -> PolicyError:
        return PolicyError(message, file=self.file, role=self.role, entry=entry)

    def keys(self, body: Mapping[Any, Any], allowed: frozenset[str], entry: str) -> None:
        for key in body:
            if key not in allowed:
                raise self.error(_unknown("key", key, allowed), entry)


def _unknown(what: str, name: Any, choices: Iterable[str], tail: str = "", lead: str = "") -> str:
    """ "unknown field 'nikk' of Citizen (did you mean 'nik'?)" """
    close = difflib.get_close_matches(str(name), sorted(choices), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{lead or 'unknown ' + what} {name!r}{tail}{hint}"


def _catalogue(catalogue: Catalogue, source: str) -> dict[str, frozenset[str]]:
    if not isinstance(catalogue, Mapping):
        raise PolicyError("the catalogue must map type names to field names", file=source)
    result: dict[str, frozenset[str]] = {}
    for type_name, names in catalogue.items():
        if not isinstance(type_name, str) or isinstance(names, str):
            raise PolicyError(f"catalogue entry {type_name!r} is malformed", file=source)
        result[type_name] = frozenset(names)
    return result


def _check_kinds(kinds: ValueKinds, cat: Mapping[str, frozenset[str]], source: str) -> None:
    if not isinstance(kinds, Mapping):
        raise PolicyError("the value kinds must map (type, field) to a kind", file=source)
    for type_name, field_name in kinds:
        if field_name not in cat.get(type_name, frozenset()):
            raise PolicyError(f"a value kind is declared for {type_name}.{field_name}, which the schema lacks",
                              file=source)


def _role(
    where: _Where,
    name: str,
    body: Any,
    cat: Mapping[str, frozenset[str]],
    kinds: ValueKinds,
    roles: Iterable[str],
) -> RolePolicy:
    if not isinstance(body, dict):
        raise where.error("expected a mapping (write {} for a role with no access)")
    where.keys(body, _ROLE_KEYS, "role")
    description = body.get("description", "")
    if not isinstance(description, str):
        raise where.error("expected text", "description")
    extends = _word_list(where, body.get("extends", []), "extends")
    for parent in extends:
        if parent not in roles:
            raise where.error(_unknown("role", parent, roles), "extends")
        if parent == name:
            raise where.error("a role cannot extend itself", "extends")
    types_body = body.get("types", {})
    if not isinstance(types_body, dict):
        raise where.error("expected a mapping of type name to rules", "types")
    declared: dict[str, Declared] = {}
    for type_name, entry in types_body.items():
        label = f"types.{type_name}"
        if type_name in ROOT_TYPES:
            key = ROOT_TYPES[type_name]
            raise where.error(f"root type: list its fields under `{key}:`", label)
        if type_name not in cat:
            raise where.error(_unknown("type", type_name, cat), label)
        declared[type_name] = _type_rule(where, label, type_name, entry, cat[type_name])
    types = apply_kinds(where, declared, kinds)
    roots: dict[str, frozenset[str]] = {}
    for root_type, key in ROOT_TYPES.items():
        if key not in body:
            continue
        if root_type not in cat:
            raise where.error(f"the schema has no {root_type} type", key)
        roots[root_type] = _field_names(
            where, key, body[key], cat[root_type], root_type, empty_ok=True
        )
    return RolePolicy(
        name=name,
        description=description,
        extends=extends,
        types=MappingProxyType(types),
        roots=MappingProxyType(roots),
        limits=_limits(where, body.get("limits", {})),
        persisted_only=_flag(where, body.get("persisted_only", False), "persisted_only"),
    )


def _flag(where: _Where, value: Any, entry: str) -> bool:
    if not isinstance(value, bool):
        raise where.error(f"expected true or false, got {value!r}", entry)
    return value


def _type_rule(
    where: _Where, label: str, type_name: str, entry: Any, known: frozenset[str]
) -> Declared:
    if entry == "*" or isinstance(entry, list):
        entry = {"fields": entry}
    if not isinstance(entry, dict):
        raise where.error('expected "*", a list of fields or a mapping', label)
    where.keys(entry, _TYPE_KEYS, label)
    fields = _field_names(where, f"{label}.fields", entry.get("fields", "*"), known, type_name)
    hidden: frozenset[str] = frozenset()
    if "hide" in entry:
        hidden = _field_names(where, f"{label}.hide", entry["hide"], known, type_name)
        not_shown = sorted(hidden - fields)
        if not_shown:
            raise where.error(f"hides fields that are not shown: {not_shown}", f"{label}.hide")
        fields = fields - hidden
        if not fields:
            raise where.error("hides every field; leave the type out instead", f"{label}.hide")
    masks = _masks(where, f"{label}.mask", entry.get("mask", {}), fields, type_name)
    rows = _rows(where, f"{label}.rows", entry.get("rows", "all"), fields, known, type_name)
    deny = tuple(
        _rule(where, f"{label}.deny", rule_name)
        for rule_name in _word_list(where, entry.get("deny", []), f"{label}.deny")
    )
    unmasked: frozenset[str] = frozenset()
    if "unmasked" in entry:
        if not isinstance(entry["unmasked"], list):
            raise where.error("expected a list of field names", f"{label}.unmasked")
        unmasked = _field_names(where, f"{label}.unmasked", entry["unmasked"], known, type_name)
    rule = TypeRule(fields=fields, masks=masks, rows=rows, deny=deny)
    return Declared(rule, hidden, unmasked)


def _field_names(
    where: _Where,
    label: str,
    value: Any,
    known: frozenset[str],
    type_name: str,
    *,
    empty_ok: bool = False,
) -> frozenset[str]:
    if value == "*":
        return known
    if not isinstance(value, list) or (not value and not empty_ok):
        raise where.error('expected "*" or a non-empty list of field names', label)
    seen: set[str] = set()
    for item in value:
        if not isinstance(item, str):
            raise where.error(f"expected a field name, got {item!r}", label)
        if item not in known:
            raise where.error(_unknown("field", item, known, f" of {type_name}"), label)
        if item in seen:
            raise where.error(f"field {item!r} listed twice", label)
        seen.add(item)
    return frozenset(seen)


def _word_list(where: _Where, value: Any, label: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
        raise where.error("expected a name or a list of names", label)
    return tuple(items)


def _masks(
    where: _Where, label: str, value: Any, fields: frozenset[str], type_name: str
) -> Mapping[str, str]:
    if not isinstance(value, dict):
        raise where.error("expected a mapping of field name to mask name", label)
    for field_name, mask in value.items():
        if field_name not in fields:
            shown = _unknown("field", field_name, fields, lead="masks a field that is not shown:")
            raise where.error(shown, label)
        if not isinstance(mask, str) or mask not in MASKS:
            raise where.error(_unknown("mask", mask, MASKS, f" for {field_name}"), label)
    return MappingProxyType(dict(value))


def _rule(where: _Where, label: str, name: str) -> RowRule:
    if name not in ROW_RULES:
        raise where.error(_unknown("row rule", name, ROW_RULES), label)
    rule = ROW_RULES[name]
    try:
        _ = rule.reads  # derived now (and kept), so a rule that cannot be cached stops the start
    except RuleReadsError as exc:
        raise where.error(f"row rule {name!r}: {exc}", label) from exc
    return rule


def _rows(
    where: _Where,
    label: str,
    value: Any,
    fields: frozenset[str],
    known: frozenset[str],
    type_name: str,
) -> tuple[RowBinding, ...]:
    items = [value] if isinstance(value, (str, dict)) else value
    if not isinstance(items, list) or not items:
        raise where.error("expected a rule name, a mapping or a non-empty list of them", label)
    bindings: list[RowBinding] = []
    for item in items:
        if isinstance(item, str) and item in ROW_MACROS:
            for names, narrowed in ROW_MACROS[item]:
                rules = tuple(_rule(where, label, n) for n in names)
                shown = None if narrowed is None else frozenset(narrowed)
                if shown is not None and not shown <= fields:
                    missing = sorted(shown - fields)
                    problem = f"{item} shows {missing}, which {type_name} does not show here"
                    raise where.error(problem, label)
                bindings.append(RowBinding(rules, shown))
        elif isinstance(item, str):
            bindings.append(RowBinding((_rule(where, label, item),)))
        elif isinstance(item, dict):
            bindings.append(_binding(where, label, item, fields, known, type_name))
        else:
            raise where.error(f"expected a rule name or a mapping, got {item!r}", label)
    return tuple(bindings)


def _binding(
    where: _Where,
    label: str,
    item: dict[Any, Any],
    fields: frozenset[str],
    known: frozenset[str],
    type_name: str,
) -> RowBinding:
    where.keys(item, _BINDING_KEYS, label)
    if "rule" not in item:
        raise where.error("a row entry needs `rule:`", label)
    names = _word_list(where, item["rule"], f"{label}.rule")
    if not names:
        raise where.error("expected at least one rule", f"{label}.rule")
    rules = tuple(_rule(where, f"{label}.rule", n) for n in names)
    if "fields" in item and "hide" in item:
        raise where.error("give `fields` or `hide`, not both", label)
    shown: frozenset[str] | None = None
    if "fields" in item:
        shown = _field_names(where, f"{label}.fields", item["fields"], known, type_name)
    elif "hide" in item:
        shown = fields - _field_names(where, f"{label}.hide", item["hide"], known, type_name)
    if shown is not None:
        extra = sorted(shown - fields)
        if extra:
            raise where.error(f"narrows to fields that are not shown: {extra}", label)
        if shown == fields:
            shown = None
    return RowBinding(rules, shown)


def _limits(where: _Where, value: Any) -> Limits:
    if not isinstance(value, dict):
        raise where.error("expected a mapping", "limits")
    where.keys(value, frozenset(_LIMIT_KINDS), "limits")
    for key, item in value.items():
        kind = _LIMIT_KINDS[key]
        if kind is bool and not isinstance(item, bool):
            raise where.error(f"expected true or false, got {item!r}", f"limits.{key}")
        if kind is int and (isinstance(item, bool) or not isinstance(item, int) or item < 1):
            raise where.error(f"expected a positive whole number, got {item!r}", f"limits.{key}")
    return Limits(**value)


def _check_extends(source: str, parsed: Mapping[str, RolePolicy]) -> None:
    def visit(role: str, trail: tuple[str, ...]) -> None:
        for parent in parsed[role].extends:
            if parent in trail:
                cycle = " -> ".join((*trail, parent))
                raise PolicyError(
                    f"roles extend each other in a cycle: {cycle}",
                    file=source,
                    role=role,
                    entry="extends",
                )
            visit(parent, (*trail, parent))

    for name in parsed:
        visit(name, (name,))
