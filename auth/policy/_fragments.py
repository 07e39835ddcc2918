"""Policy entries contributed by a plug-in (schema.plugins), merged into the policy file's.

A fragment grants the hub's existing roles what they may do with the plug-in's own types
and root fields, and nothing else: it may not name a type or a root field the plug-in
does not contribute (an installed package cannot widen a role's access to `Citizen`), nor
a role the policy file does not define. Where the file itself names one of the plug-in's
types or root fields for a role, the file wins: the operator has the last word.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from auth.policy._errors import PolicyError


@dataclass(frozen=True, slots=True)
class PolicyFragment:
    """`data`: {"roles": {role: {"types": {...}, "query": [...], "mutation": [...]}}}, in the
    policy file's own syntax; `types` and `root_fields` are what the plug-in contributes."""

    name: str
    data: Mapping[str, Any]
    types: frozenset[str]
    root_fields: frozenset[str]


def merge_fragments(data: Any, fragments: Iterable[PolicyFragment], *, source: str) -> Any:
    """The policy file's `data` with each fragment's grants added (a new mapping)."""
    fragments = list(fragments)
    if not fragments or not isinstance(data, Mapping) or not isinstance(data.get("roles"), Mapping):
        return data
    roles = {name: dict(entry) if isinstance(entry, Mapping) else entry for name, entry in data["roles"].items()}
    for fragment in fragments:
        where = f"plug-in {fragment.name}"
        grants = fragment.data.get("roles") if isinstance(fragment.data, Mapping) else None
        unknown_keys = set(fragment.data) - {"roles"} if isinstance(fragment.data, Mapping) else set()
        if not isinstance(grants, Mapping) or unknown_keys:
            raise PolicyError(f"{where}: a policy fragment holds `roles` and nothing else", file=source)
        for role, grant in grants.items():
            entry = roles.get(role)
            if not isinstance(entry, dict):
                raise PolicyError(f"{where}: role {role!r} is not defined by the policy file", file=source)
            if not isinstance(grant, Mapping) or set(grant) - {"types", "query"}:
                raise PolicyError(f"{where}: role {role!r} may grant `types` and `query` only", file=source)
            types = grant.get("types", {})
            if not isinstance(types, Mapping) or not set(types) <= fragment.types:
                raise PolicyError(f"{where}: role {role!r} names types the plug-in does not contribute: "
                                  f"{sorted(set(types) - fragment.types)}", file=source)
            query = grant.get("query", [])
            if not isinstance(query, list) or not set(query) <= fragment.root_fields:
                raise PolicyError(f"{where}: role {role!r} names root fields the plug-in does not contribute: "
                                  f"{sorted(set(query) - fragment.root_fields) if isinstance(query, list) else query}",
                                  file=source)
            own_types = dict(entry.get("types") or {})
            for type_name, rules in types.items():
                own_types.setdefault(type_name, rules)  # the file's own entry wins
            entry["types"] = own_types
            own_query = list(entry.get("query") or [])
            entry["query"] = own_query + [f for f in query if f not in own_query]
    return {**data, "roles": roles}
