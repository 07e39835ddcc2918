"""The declarative access policy: who may see which types, fields and rows, and call
which root fields. Policy is data (`auth/default_policy.yaml`, replaceable by
configuration), loaded and validated once at start-up against the schema's catalogue.

    policy = load_policy(catalogue={"Citizen": frozenset({"nik", ...}), "Query": ...},
                         kinds={("Citizen", "nik"): ValueKind.NIK, ...})  # auth.kinds
    policy.visible_fields("kelurahan_officer", "Citizen")   # build that role's schema
    policy.may_call(principal.roles, "Query", "citizens")
    policy.row_scope(principal, "Citizen")                  # push down into the source
    access = policy.row_access(principal, "Citizen", record)  # once per record
    access.decision.allowed; access.access("nik").apply(value)
"""

from __future__ import annotations

from auth.policy._access import Access, AccessKind, most_permissive
from auth.policy._errors import PolicyError
from auth.policy._fragments import PolicyFragment
from auth.policy._loader import DEFAULT_POLICY_FILE, load_policy, parse_policy
from auth.policy._model import (
    ROOT_TYPES,
    Catalogue,
    Limits,
    Policy,
    RolePolicy,
    RowAccess,
    RowBinding,
    TypeRule,
)
from auth.policy._rules import ROW_MACROS, ROW_RULES, AtRoot, ReachedAs, RowRule
from auth.policy._scope import RowScope

__all__ = [
    "Access",
    "AccessKind",
    "AtRoot",
    "Catalogue",
    "DEFAULT_POLICY_FILE",
    "Limits",
    "Policy",
    "PolicyError",
    "PolicyFragment",
    "ROOT_TYPES",
    "ROW_MACROS",
    "ROW_RULES",
    "ReachedAs",
    "RolePolicy",
    "RowAccess",
    "RowBinding",
    "RowRule",
    "RowScope",
    "TypeRule",
    "load_policy",
    "most_permissive",
    "parse_policy",
]
