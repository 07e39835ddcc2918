"""Schema parts contributed by installed packages, through the `simpul.schema` entry
point group (the source side is `connectors.plugins`).

A plug-in's `SchemaPlugin` brings its own root fields (a strawberry type merged into
`Query`), its own object types, and what the hub needs to guard them like its own:

- `personal_fields`: which fields of its types are personal data (as
  `schema.access.PERSONAL_FIELDS`: a request selecting one needs a purpose, and every
  record shown is written to the access ledger);
- `value_kinds`: the fields carrying a NIK, name, address, ... (as
  `schema.value_kinds.VALUE_KINDS`: the roles' masks follow them);
- `policy`: the grants of the hub's roles on its types and root fields, in the policy
  file's syntax; it may name nothing else (`auth.policy._fragments`).

Its resolvers read through `ctx.loaders.of_plugin(...)` (batched, traced, failures per
key), shape each record with `ctx.presenter.shape(...)` and note it with
`ctx.record_access(...)`, as the hub's own types do; they join the hub's types through a
declared key (a NIK: `ctx.loaders.citizen` and `Citizen.of`, so the citizen is shown
only as the caller's policy allows).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from auth.kinds import ValueKind
from auth.policy import PolicyError, PolicyFragment

ENTRY_POINT_GROUP = "simpul.schema"

log = logging.getLogger("simpul.schema")


@dataclass(frozen=True, slots=True)
class SchemaPlugin:
    name: str
    query: type  # a @strawberry.type whose fields become root fields of Query
    types: frozenset[str]  # the GraphQL object types it contributes
    personal_fields: Mapping[str, frozenset[str] | None] = field(default_factory=dict)
    value_kinds: Mapping[tuple[str, str], ValueKind] = field(default_factory=dict)
    policy: Mapping[str, Any] = field(default_factory=dict)

    def root_fields(self) -> frozenset[str]:
        from strawberry.types.base import get_object_definition
        from strawberry.utils.str_converters import to_camel_case

        definition = get_object_definition(self.query, strict=True)
        return frozenset(f.graphql_name or to_camel_case(f.python_name) for f in definition.fields)

    def fragment(self) -> PolicyFragment:
        return PolicyFragment(self.name, self.policy, self.types, self.root_fields())


def _checked(name: str, value: object) -> SchemaPlugin:
    """A type name the hub has already is refused by strawberry when Query is merged."""
    if not isinstance(value, SchemaPlugin):
        raise PolicyError(f"entry point {ENTRY_POINT_GROUP}:{name} is not a schema.plugins.SchemaPlugin")
    for type_name in (*value.personal_fields, *(t for t, _ in value.value_kinds)):
        if type_name not in value.types:
            raise PolicyError(f"plug-in {value.name!r} declares personal data of a type it does not "
                              f"contribute: {type_name}")
    return value


@cache
def schema_plugins() -> tuple[SchemaPlugin, ...]:
    """The installed schema plug-ins (read once); `PolicyError` for a broken one."""
    found: list[SchemaPlugin] = []
    for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
        try:
            loaded = point.load()
        except Exception as exc:  # noqa: BLE001 (any import failure of a third-party package)
            raise PolicyError(f"entry point {ENTRY_POINT_GROUP}:{point.name} ({point.value}) "
                              f"does not load: {exc}") from exc
        plugin = _checked(point.name, loaded)
        if any(plugin.types & other.types for other in found):
            raise PolicyError(f"two plug-ins contribute the same types: {sorted(plugin.types)}")
        found.append(plugin)
        log.info("schema plug-in %s loaded from %s", plugin.name, point.value)
    return tuple(found)


def policy_fragments() -> list[PolicyFragment]:
    """The grants of the installed plug-ins, for the policy loader."""
    return [plugin.fragment() for plugin in schema_plugins()]
