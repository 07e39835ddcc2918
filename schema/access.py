"""Policy enforcement in the GraphQL layer.

Three jobs, all decided by `auth.policy` (pure functions) and applied here:

- which fields a role's schema holds (`visible_pairs`), computed once per role set at
  start-up, pruning fields whose result type the role cannot see at all;
- how one record is shown (`Presenter.shape`): the row decision and the per-field
  access are taken once per record, then applied to the record's plain values;
- which rows a root listing may fetch (`Presenter.scope`), pushed down to the source.

Which fields count as personal data (for purposes and the ledger) is declared here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache
from graphql import GraphQLInputObjectType, GraphQLObjectType, GraphQLSchema, get_named_type
from strawberry.utils.str_converters import to_camel_case

from auth.policy import AccessKind, Policy, ReachedAs, RowAccess, RowScope
from auth.principal import Principal
from auth.purposes import PurposeRegistry
from schema.inputs import FILTER_READS, searchable_inputs

#: Personal fields per GraphQL type; `None` means every field of the type (installed
#: plug-ins add theirs when the root types are assembled: schema.root).
PERSONAL_FIELDS: dict[str, frozenset[str] | None] = {
    "Citizen": None,
    "Family": frozenset({"number", "head", "members", "address"}),
    "Application": frozenset({"applicantNik", "applicantName", "applicant", "businessAddress", "documents"}),
    "Complaint": frozenset({"reporter", "reporterNik"}),
    "CitizenVerification": None,
}

ROOT_TYPES = ("Query", "Mutation", "Subscription")

#: the federation's entities (schema.federation) -> the root field that looks one up by
#: key: `_entities` is in a role's schema when the role may call one of them, and answers
#: a representation only for a role that may call its type's
ENTITY_ROOT_FIELDS: Mapping[str, str] = {
    "Citizen": "citizen", "Family": "family", "Application": "application", "Complaint": "complaint",
}


def _may_call(policy: Policy, roles: frozenset[str], root: str, field_name: str) -> bool:
    if root == "Query" and field_name == "_entities":
        return any(policy.may_call(roles, "Query", f) for f in ENTITY_ROOT_FIELDS.values())
    if root == "Query" and field_name == "_service":  # the SDL: as introspection
        return policy.limits(roles).introspection is not False
    return policy.may_call(roles, root, field_name)


def personal_selection(selected: Mapping[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """The personal fields among the fields a document selects, per type."""
    found: dict[str, frozenset[str]] = {}
    for type_name, fields in selected.items():
        if type_name not in PERSONAL_FIELDS:
            continue
        personal = PERSONAL_FIELDS[type_name]
        hit = fields if personal is None else fields & personal
        if hit:
            found[type_name] = hit
    return found


def catalogue_of(schema: GraphQLSchema) -> dict[str, frozenset[str]]:
    """Type name -> field names of every object type (what the policy is checked against)."""
    return {
        name: frozenset(t.fields)
        for name, t in schema.type_map.items()
        if isinstance(t, GraphQLObjectType) and not name.startswith("__")
    }


def visible_pairs(policy: Policy, roles: frozenset[str], schema: GraphQLSchema) -> frozenset[tuple[str, str]]:
    """The (type, field) pairs a role set's schema holds.

    Root fields follow `may_call`; fields of types the policy governs follow
    `visible_fields`; other types are open. A field whose object result type ends up
    with no visible field is removed too, repeated until nothing changes. Filter inputs
    hold the fields that read only what the role may search by (`schema.inputs`); other
    input types are whole."""
    governed = policy.governed_types
    objects = {
        name: t for name, t in schema.type_map.items()
        if isinstance(t, GraphQLObjectType) and not name.startswith("__")
    }
    visible: dict[str, set[str]] = {}
    for name, gtype in objects.items():
        if name in ROOT_TYPES:
            visible[name] = {f for f in gtype.fields if _may_call(policy, roles, name, f)}
        elif name in governed:
            visible[name] = set(policy.visible_fields(roles, name)) & set(gtype.fields)
        else:
            visible[name] = set(gtype.fields)
    changed = True
    while changed:
        changed = False
        for name, fields in visible.items():
            for field_name in list(fields):
                result = get_named_type(objects[name].fields[field_name].type)
                if result.name in objects and not visible[result.name]:
                    fields.discard(field_name)
                    changed = True
    filters = searchable_inputs({name: policy.searchable_fields(roles, name) for name, _ in FILTER_READS.values()})
    for name, gtype in schema.type_map.items():
        if isinstance(gtype, GraphQLInputObjectType):
            visible[name] = set(filters[name]) if name in filters else set(gtype.fields)
    for root in ROOT_TYPES:  # a filter with no field left is no input type: no listing then
        if root in objects:
            for field_name in list(visible[root]):
                taken = (get_named_type(arg.type).name for arg in objects[root].fields[field_name].args.values())
                if any(name in filters and not filters[name] for name in taken):
                    visible[root].discard(field_name)
    return frozenset((t, f) for t, fields in visible.items() for f in fields)


@dataclass(slots=True)  # not frozen: made once per record (why: auth.ledger.model, docs/performance.md)
class Shaped:
    """A record as one principal may see it: its values, and how each was shown."""

    values: dict[str, Any]
    row: RowAccess


_ABSENT = object()  # a fact the record does not carry (some rules tell absent from None)

#: How one shaped record's values are produced: attribute -> None (shown in full),
#: a callable (the mask), or False (withheld).
Plan = tuple[tuple[str, object], ...]


class Presenter:
    """Applies the policy to records for one principal; shared by a request's resolvers.

    The policy hands out one `RowAccess` object per distinct outcome (they are cached
    and shared), so the per-field work of turning an access into a shaping plan is done
    once per outcome and attribute set, not once per record, and not once per request:
    the plans are kept across requests (`_PLANS`), and the request's own look-ups are
    answered by a plain dict in front of that cache."""

    __slots__ = ("_facts", "_plans", "_rows", "family_number", "policy", "principal")

    def __init__(self, policy: Policy, principal: Principal, *, family_number: str | None = None) -> None:
        self.policy = policy
        self.principal = principal
        self.family_number = family_number  # the principal's own family card, if a citizen
        self._plans: dict[tuple[int, tuple[str, ...]], tuple[RowAccess, Plan | None]] = {}
        # the decision per type and values of the facts the policy reads for it: a page of
        # records that agree on those facts is decided once
        self._rows: dict[tuple[str, tuple[object, ...]], RowAccess] = {}
        self._facts: dict[str, tuple[str, ...]] = {}

    def shape(
        self,
        type_name: str,
        facts: dict[str, Any],
        values: dict[str, Any],
        *,
        reached_as: ReachedAs = ReachedAs.ROOT,
    ) -> Shaped | None:
        """None when the row may not be shown; else the values with masks applied and
        denied fields nulled. `values` is keyed by Python attribute name."""
        facts["reached_as"] = reached_as
        if self.family_number is not None and facts.get("family_number") == self.family_number:
            facts["family_of_principal"] = True
        row = self._row_access(type_name, facts)
        if not row.allowed:
            return None
        key = (id(row), tuple(values))
        cached = self._plans.get(key)
        if cached is None or cached[0] is not row:
            cached = self._plans[key] = _shared_plan(key, row, values)
        plan = cached[1]
        if plan is None:
            return Shaped(values, row)
        return Shaped({a: v if how is None else (how(v) if how else None)  # type: ignore[operator]
                       for (a, how), v in zip(plan, values.values())}, row)

    def _row_access(self, type_name: str, facts: dict[str, Any]) -> RowAccess:
        reads = self._facts.get(type_name)
        if reads is None:
            roles = self.policy.expand(self.principal.roles)
            reads = self._facts[type_name] = self.policy.row_facts(roles, type_name)
        key = (type_name, tuple([facts.get(name, _ABSENT) for name in reads]))
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = self.policy.row_access(self.principal, type_name, facts)
        return row

    def scope(self, type_name: str) -> RowScope:
        return self.policy.row_scope(self.principal, type_name)


#: (id of a RowAccess, attribute names) -> (that RowAccess, its shaping plan): a plan
#: depends on nothing else. An entry holds its RowAccess, so the id keying it cannot
#: name another object while it is kept; the bound caps what many policies' outcomes use.
_PLANS: LRUCache[tuple[int, tuple[str, ...]], tuple[RowAccess, Plan | None]] = LRUCache(maxsize=4096)


def _shared_plan(
    key: tuple[int, tuple[str, ...]], row: RowAccess, values: dict[str, Any]
) -> tuple[RowAccess, Plan | None]:
    cached = _PLANS.get(key)
    if cached is None or cached[0] is not row:
        plan = _plan(row, values)
        # None: every value shown as it is (no mask, nothing withheld), nothing to apply
        cached = _PLANS[key] = (row, None if all(how is None for _, how in plan) else plan)
    return cached


def _plan(row: RowAccess, values: dict[str, Any]) -> Plan:
    plan: list[tuple[str, object]] = []
    for attr in values:
        access = row.access(_graphql_name(attr))
        if access.kind is AccessKind.FULL:
            plan.append((attr, None))
        elif access.kind is AccessKind.MASKED:
            plan.append((attr, access.apply))
        else:
            plan.append((attr, False))
    return tuple(plan)


def allows(row: RowAccess | None, field: str) -> bool:
    return row is None or row.access(field).kind is not AccessKind.DENIED


def masked_fields(row: RowAccess, fields: Iterable[str]) -> list[str]:
    return [f for f in fields if row.access(f).kind is AccessKind.MASKED]


_NAMES: dict[str, str] = {}


def _graphql_name(attr: str) -> str:
    name = _NAMES.get(attr)
    if name is None:
        name = _NAMES[attr] = to_camel_case(attr)
    return name


@dataclass(frozen=True, slots=True)
class AccessControl:
    """The start-up products of the policy the schema needs."""

    policy: Policy
    purposes: PurposeRegistry

    def presenter(self, principal: Principal, *, family_number: str | None = None) -> Presenter:
        return Presenter(self.policy, principal, family_number=family_number)
