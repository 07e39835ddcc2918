"""The loaded policy: per role, what it may see and call, and the decisions over it.

A principal may hold several roles (and a role may extend others, which is the same
as holding them too). Roles combine by the most permissive rule:

- a field is visible if any role shows it; its access is the most permissive of the
  roles' (FULL > MASKED > DENIED, see `most_permissive`);
- a root field may be called if any role may call it;
- a row is allowed if any role allows it, and then only the roles that allowed *this
  row* decide its fields (`row_access`), so a role that may see full NIKs of its own
  rows never unmasks the NIK of a row that only another role let through;
- limits take the largest number and allow introspection if any role does.

Roles a principal holds that the policy does not know grant nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from auth.decision import Decision
from auth.policy._access import Access, most_permissive
from auth.policy._rules import AtRoot, Record, RowRule
from auth.policy._scope import RowScope
from auth.principal import ANONYMOUS_ROLE, Principal

#: Type name -> field names, handed in by the schema layer (root types included).
Catalogue = Mapping[str, frozenset[str]]

#: Root type name -> the policy file key listing the fields a role may call.
ROOT_TYPES: Mapping[str, str] = MappingProxyType(
    {"Query": "query", "Mutation": "mutation", "Subscription": "subscription"}
)


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-role limits; None means "the hub's configured default".

    Besides the cost and depth: how long a document may be (characters) and how many
    tokens it may hold (both bound parsing), and how many operations and fragments,
    selections and fields under one response name it may hold (all bound validation)."""

    max_query_cost: int | None = None
    max_depth: int | None = None
    introspection: bool | None = None
    max_document_length: int | None = None
    max_tokens: int | None = None
    max_definitions: int | None = None
    max_selections: int | None = None
    max_repeated_fields: int | None = None

    def widen(self, other: Limits) -> Limits:
        def larger(a: int | None, b: int | None) -> int | None:
            return b if a is None else a if b is None else max(a, b)

        intro = None
        if self.introspection is not None or other.introspection is not None:
            intro = bool(self.introspection) or bool(other.introspection)
        return Limits(
            max_query_cost=larger(self.max_query_cost, other.max_query_cost),
            max_depth=larger(self.max_depth, other.max_depth),
            introspection=intro,
            max_document_length=larger(self.max_document_length, other.max_document_length),
            max_tokens=larger(self.max_tokens, other.max_tokens),
            max_definitions=larger(self.max_definitions, other.max_definitions),
            max_selections=larger(self.max_selections, other.max_selections),
            max_repeated_fields=larger(self.max_repeated_fields, other.max_repeated_fields),
        )


@dataclass(frozen=True, slots=True)
class RowBinding:
    """One entry of a type's `rows:`: rules that must all match, and optionally the
    narrowed set of fields a row allowed by this entry shows."""

    rules: tuple[RowRule, ...]
    fields: frozenset[str] | None = None

    @property
    def name(self) -> str:
        return "+".join(rule.name for rule in self.rules)

    def matches(self, principal: Principal, record: Record) -> bool:
        return all(rule.match(principal, record) for rule in self.rules)

    def scope(self, principal: Principal) -> RowScope:
        """The rows this entry admits at the root: none when one of its rules never
        matches there; marked inexact when one matches other rows than its scope."""
        scope = RowScope.all()
        for rule in self.rules:
            if rule.at_root is AtRoot.NEVER:
                return RowScope.none()
            ruled = rule.scope(principal)
            scope = scope.intersect(ruled if rule.at_root is AtRoot.SCOPE else ruled.widened())
        return scope


@dataclass(frozen=True, slots=True)
class TypeRule:
    fields: frozenset[str]  # visible fields
    masks: Mapping[str, str]  # field -> mask name (a subset of `fields`)
    rows: tuple[RowBinding, ...]  # any one matching allows the row
    deny: tuple[RowRule, ...] = ()  # any one matching refuses the row first

    def access(self, field_name: str) -> Access:
        if field_name not in self.fields:
            return Access.DENIED
        mask = self.masks.get(field_name)
        return Access.masked(mask) if mask else Access.FULL


@dataclass(frozen=True, slots=True)
class RolePolicy:
    name: str
    description: str
    extends: tuple[str, ...]
    types: Mapping[str, TypeRule]
    roots: Mapping[str, frozenset[str]]  # root type name -> callable fields
    limits: Limits
    persisted_only: bool = False  # may run pushed (persisted) operations only


@dataclass(frozen=True, slots=True)
class RowAccess:
    """The decision on one record and, when allowed, how each shown field is shown.
    Fields absent from `fields` are denied for this row."""

    decision: Decision
    fields: Mapping[str, Access]

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    def access(self, field_name: str) -> Access:
        return self.fields.get(field_name, Access.DENIED)


_NO_FIELDS: Mapping[str, Access] = MappingProxyType({})

# How one role's rules judged one record: (kind, indices into `deny` or `rows`).
_Outcome = tuple[str, tuple[int, ...]]

#: How many distinct role sets, as principals carry them, `expand` remembers.
_GIVEN_ROLE_SETS = 1024


def _cache_field(factory: Callable[[], Any]) -> Any:
    return field(default_factory=factory, init=False, compare=False, repr=False)


@dataclass(frozen=True, eq=False)  # compared and hashed by identity
class Policy:
    source: str  # the file it came from, for messages
    role_policies: Mapping[str, RolePolicy]
    catalogue: Catalogue
    other_types_visible: bool  # types no role mentions: visible to all, or to none
    persisted_only_clients: frozenset[str] = frozenset()  # token clients held to pushed operations
    # One cache per decision. Each is keyed by things the policy bounds (known roles,
    # catalogue names, per-rule outcomes), except `_expanded_given`, keyed by the roles
    # a principal carries as given, which is emptied when it reaches `_GIVEN_ROLE_SETS`
    # (a plain dict: it is asked once per record decided, where an LRU's bookkeeping
    # shows). `dataclasses.replace` makes a copy with every cache empty (they are not
    # init fields).
    _expanded_given: dict[frozenset[str], frozenset[str]] = _cache_field(dict)
    _expanded: dict[frozenset[str], frozenset[str]] = _cache_field(dict)
    _rules_for: dict[tuple[frozenset[str], str], tuple[tuple[str, TypeRule], ...]] = _cache_field(dict)
    _field_access: dict[tuple[frozenset[str], str, str], Access] = _cache_field(dict)
    _resolved: dict[tuple[frozenset[str], str, tuple[_Outcome, ...]], RowAccess] = _cache_field(dict)
    _facts: dict[tuple[frozenset[str], str], tuple[str, ...]] = _cache_field(dict)
    _open: dict[str, Mapping[str, Access]] = _cache_field(dict)
    _searchable: dict[tuple[frozenset[str], str], frozenset[str]] = _cache_field(dict)
    _fields_granted: dict[tuple[str, tuple[tuple[str, frozenset[str] | None], ...]], Mapping[str, Access]] = (
        _cache_field(dict)
    )

    # -- roles ---------------------------------------------------------------------

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(self.role_policies)

    @property
    def grantable_roles(self) -> frozenset[str]:
        """The roles a token or a service account may carry: all but the anonymous one
        (nobody signs in as "nobody")."""
        return self.roles - {ANONYMOUS_ROLE}

    @property
    def governed_types(self) -> frozenset[str]:
        return frozenset(t for rp in self.role_policies.values() for t in rp.types)

    def expand(self, roles: str | Iterable[str]) -> frozenset[str]:
        """The known roles among `roles`, with every role they extend."""
        if isinstance(roles, frozenset):
            cached = self._expanded_given.get(roles)
            if cached is None:
                if len(self._expanded_given) >= _GIVEN_ROLE_SETS:
                    self._expanded_given.clear()
                cached = self._expanded_given[roles] = self._expand_known(roles)
            return cached
        return self._expand_known((roles,) if isinstance(roles, str) else roles)

    def _expand_known(self, given: Iterable[str]) -> frozenset[str]:
        wanted = frozenset(r for r in given if r in self.role_policies)
        found = self._expanded.get(wanted)
        if found is None:
            closure: set[str] = set()
            todo = list(wanted)
            while todo:
                role = todo.pop()
                if role not in closure:
                    closure.add(role)
                    todo.extend(self.role_policies[role].extends)
            found = self._expanded[wanted] = frozenset(closure)
        return found

    def persisted_only(self, principal: Principal) -> bool:
        """Whether `principal` may run pushed (persisted) operations only: its token's
        client is listed under `persisted_only_clients`, or every known role it holds
        says `persisted_only` (most permissive, as with limits; a role is held to it by
        its own entry, not by extending a role that has it). A principal holding no known
        role is judged as the anonymous caller."""
        if principal.client_id is not None and principal.client_id in self.persisted_only_clients:
            return True
        held = [r for r in principal.roles if r in self.role_policies]
        if not held and ANONYMOUS_ROLE in self.role_policies:
            held = [ANONYMOUS_ROLE]
        return bool(held) and all(self.role_policies[r].persisted_only for r in held)

    def limits(self, roles: str | Iterable[str]) -> Limits:
        combined = Limits()
        for role in sorted(self.expand(roles)):
            combined = combined.widen(self.role_policies[role].limits)
        return combined

    # -- fields and root fields ----------------------------------------------------

    def _type_rules(
        self, roles: frozenset[str], type_name: str
    ) -> tuple[tuple[str, TypeRule], ...]:
        key = (roles, type_name)
        found = self._rules_for.get(key)
        if found is None:
            found = self._rules_for[key] = tuple(
                (role, self.role_policies[role].types[type_name])
                for role in sorted(roles)
                if type_name in self.role_policies[role].types
            )
        return found

    def _is_open(self, type_name: str) -> bool:
        return (
            self.other_types_visible
            and type_name in self.catalogue
            and type_name not in ROOT_TYPES
            and type_name not in self.governed_types
        )

    def visible_fields(self, role: str | Iterable[str], type_name: str) -> frozenset[str]:
        """Fields of `type_name` present in the schema built for `role` (or for a set
        of roles): root fields it may call, or fields it may see in full or masked."""
        roles = self.expand(role)
        if type_name in ROOT_TYPES:
            return frozenset().union(
                *(self.role_policies[r].roots.get(type_name, frozenset()) for r in roles)
            )
        if self._is_open(type_name):
            return self.catalogue[type_name]
        return frozenset().union(*(rule.fields for _, rule in self._type_rules(roles, type_name)))

    def field_access(self, roles: str | Iterable[str], type_name: str, field_name: str) -> Access:
        """How `field_name` of `type_name` is shown to a holder of `roles`, regardless
        of the row (use `row_access` for a particular record)."""
        expanded = self.expand(roles)
        key = (expanded, type_name, field_name)
        cached = self._field_access.get(key)
        if cached is not None:
            return cached
        if type_name in ROOT_TYPES:
            callable_ = self.may_call(expanded, type_name, field_name)
            access = Access.FULL if callable_ else Access.DENIED
        elif self._is_open(type_name):
            access = Access.FULL if field_name in self.catalogue[type_name] else Access.DENIED
        else:
            rules = self._type_rules(expanded, type_name)
            access = most_permissive(rule.access(field_name) for _, rule in rules)
        self._field_access[key] = access
        return access

    def may_call(self, roles: str | Iterable[str], root_type: str, field_name: str) -> bool:
        return any(
            field_name in self.role_policies[role].roots.get(root_type, frozenset())
            for role in self.expand(roles)
        )

    # -- rows ----------------------------------------------------------------------

    def row_decision(self, principal: Principal, type_name: str, record: Record) -> Decision:
        return self.row_access(principal, type_name, record).decision

    def row_access(self, principal: Principal, type_name: str, record: Record) -> RowAccess:
        """Whether `record` (a plain mapping) may be shown to `principal`, and how each
        of its fields is shown. Decide once per record, then apply to its fields."""
        roles = self.expand(principal.roles)
        outcomes: list[_Outcome] = []
        for _, rule in self._type_rules(roles, type_name):
            outcomes.append(_outcome(rule, principal, record))
        key = (roles, type_name, tuple(outcomes))
        found = self._resolved.get(key)
        if found is None:
            found = self._resolved[key] = self._resolve(roles, type_name, key[2])
        return found

    def row_facts(self, roles: frozenset[str], type_name: str) -> tuple[str, ...]:
        """The record keys `row_access` reads for a holder of `roles` (expanded): two
        records of `type_name` that agree on these keys get the same `RowAccess` (the
        keys are derived from the rules, see `auth.policy._reads`)."""
        key = (roles, type_name)
        found = self._facts.get(key)
        if found is None:
            reads: set[str] = set()
            for _, rule in self._type_rules(roles, type_name):
                for deny in rule.deny:
                    reads |= deny.reads
                for binding in rule.rows:
                    for row_rule in binding.rules:
                        reads |= row_rule.reads
            found = self._facts[key] = tuple(sorted(reads))
        return found

    def _resolve(
        self, roles: frozenset[str], type_name: str, outcomes: tuple[_Outcome, ...]
    ) -> RowAccess:
        """Turn each role's outcome on a record into the decision and field map; the
        result depends only on the outcomes, so it is computed once and reused."""
        if self._is_open(type_name):
            allowed = Decision.allow(f"{type_name} is not restricted")
            return RowAccess(allowed, self._open_fields(type_name))
        rules = self._type_rules(roles, type_name)
        if not rules:
            refusal = Decision.deny(f"no role of the principal may see {type_name}")
            return RowAccess(refusal, _NO_FIELDS)
        granted: list[tuple[str, frozenset[str] | None]] = []
        reasons: list[str] = []
        refusals: list[str] = []
        for (role, rule), (kind, indices) in zip(rules, outcomes, strict=True):
            names = "|".join(rule.rows[i].name for i in indices)
            if kind == _DENIED:
                refusals.append(f"{role}: denied by {rule.deny[indices[0]].name}")
            elif kind == _FULL:
                granted.append((role, None))
                reasons.append(f"{role}: {names}")
            elif kind == _PARTIAL:
                narrowed = frozenset().union(*(rule.rows[i].fields or () for i in indices))
                granted.append((role, narrowed))
                reasons.append(f"{role}: {names} (some fields)")
            else:
                tried = ", ".join(b.name for b in rule.rows)
                refusals.append(f"{role}: no row rule matched ({tried})")
        if not granted:
            return RowAccess(Decision.deny("; ".join(refusals)), _NO_FIELDS)
        fields = self._row_fields(type_name, tuple(granted))
        shown = frozenset(fields)
        narrowing = None if shown == self.visible_fields(roles, type_name) else shown
        return RowAccess(Decision.allow("; ".join(reasons), narrowing), fields)

    def _open_fields(self, type_name: str) -> Mapping[str, Access]:
        found = self._open.get(type_name)
        if found is None:
            everything = dict.fromkeys(self.catalogue[type_name], Access.FULL)
            found = self._open[type_name] = MappingProxyType(everything)
        return found

    def _row_fields(
        self, type_name: str, granted: tuple[tuple[str, frozenset[str] | None], ...]
    ) -> Mapping[str, Access]:
        key = (type_name, granted)
        found = self._fields_granted.get(key)
        if found is None:
            per_field: dict[str, list[Access]] = {}
            for role, narrowed in granted:
                rule = self.role_policies[role].types[type_name]
                for name in rule.fields if narrowed is None else rule.fields & narrowed:
                    per_field.setdefault(name, []).append(rule.access(name))
            found = self._fields_granted[key] = MappingProxyType(
                {name: most_permissive(accesses) for name, accesses in sorted(per_field.items())}
            )
        return found

    def row_scope(self, principal: Principal, type_name: str) -> RowScope:
        """Which rows a root listing of `type_name` may hold, to push down into the
        source query. A covering scope: still check each row with `row_decision`.
        Marked inexact (`RowScope.exact`) when it may hold rows the policy refuses: a
        `deny` rule that can match at the root, a rule whose scope is not its test, or
        roles and entries whose rows no one conjunction expresses."""
        if self._is_open(type_name):
            return RowScope.all()
        scope = RowScope.none()
        for _, rule in self._type_rules(self.expand(principal.roles), type_name):
            for binding in rule.rows:
                scope = scope.cover(binding.scope(principal))
            if any(deny.at_root is not AtRoot.NEVER for deny in rule.deny):
                scope = scope.widened()
        return scope

    def searchable_fields(self, roles: str | Iterable[str], type_name: str) -> frozenset[str]:
        """Fields of `type_name` a holder of `roles` may filter a root listing by: those
        it sees in full on every row a listing may show it. A masked field is not
        searchable (a search by the full value would reveal it), nor is one that some
        row entry hides or some role masks or hides (a search would tell those rows
        apart by the value). Entries that never admit a row at the root (tracking,
        cross-links) do not list, so they do not count."""
        expanded = self.expand(roles)
        key = (expanded, type_name)
        found = self._searchable.get(key)
        if found is None:
            if self._is_open(type_name):
                found = self.catalogue[type_name]
            else:
                listing = [(rule, bindings) for _, rule in self._type_rules(expanded, type_name)
                           if (bindings := _root_bindings(rule))]
                names = frozenset().union(*(rule.fields for rule, _ in listing))
                found = frozenset(
                    name for name in names
                    if all(_shows_in_full(rule, bindings, name) for rule, bindings in listing)
                )
            self._searchable[key] = found
        return found


def _root_bindings(rule: TypeRule) -> tuple[RowBinding, ...]:
    return tuple(b for b in rule.rows if all(r.at_root is not AtRoot.NEVER for r in b.rules))


def _shows_in_full(rule: TypeRule, bindings: tuple[RowBinding, ...], field_name: str) -> bool:
    return (
        field_name in rule.fields
        and field_name not in rule.masks
        and all(binding.fields is None or field_name in binding.fields for binding in bindings)
    )


_DENIED, _FULL, _PARTIAL, _UNMATCHED = "denied", "full", "partial", "unmatched"


def _outcome(rule: TypeRule, principal: Principal, record: Record) -> _Outcome:
    for index, deny in enumerate(rule.deny):
        if deny.match(principal, record):
            return (_DENIED, (index,))
    partial: list[int] = []
    for index, binding in enumerate(rule.rows):
        if binding.matches(principal, record):
            if binding.fields is None:
                return (_FULL, (index,))
            partial.append(index)
    return (_PARTIAL, tuple(partial)) if partial else (_UNMATCHED, ())
