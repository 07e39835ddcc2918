"""Apollo Federation v2 subgraph mode (setting `federation`): the hub as one subgraph of
a city-wide supergraph.

`Citizen` (key `nik`), `Family`, `Application` and `Complaint` (key `number`) are
entities. A gateway resolves them through `_entities`, which answers each
representation exactly as the root field of its type answers the key
(`schema.queries.record_by_key`): the same loaders, row policy, masks, case, purposes
and ledger. The gateway is no way around them:

- the request is the caller's: the hub authenticates the token the gateway forwards and
  takes the purpose (and case) from the forwarded `X-Access-Purpose` / `X-Access-Case`
  headers; without a purpose an operation selecting personal data is refused
  (PURPOSE_REQUIRED), and every record shown is ledgered under the caller;
- `_entities` is in a role's schema only when the role may call one of the entities' root
  fields, and each representation is refused (FORBIDDEN) unless the role may call the
  root field of its type (`citizen`, `family`, `application`, `complaint`);
- `_service` (the subgraph's SDL) follows the role's introspection limit;
- at most `max_page_size` representations per request; a representation that is not
  `{__typename, <key>}` of an entity is BAD_USER_INPUT.

The entity keys are schema directives on the four types, declared for the process when
the first subgraph schema is built: subgraph mode is a setting of the whole process.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import strawberry.federation
import strawberry.federation.schema as strawberry_federation
from strawberry.federation.schema import FederationAny
from strawberry.types.base import get_object_definition
from strawberry.types.union import StrawberryUnion
from strawberry.federation.schema_directives import Key
from strawberry.types import Info

from schema.access import ENTITY_ROOT_FIELDS
from schema.context import Context
from schema.errors import BadUserInput, Forbidden
from schema.extensions.shape import MAX_ALIASES
from schema.queries import record_by_key
from schema.types.application import Application
from schema.types.citizen import Citizen, Family
from schema.types.complaint import Complaint

#: the Federation version the subgraph declares (`@link`): the newest the composition
#: libraries in use accept (@theguild/federation-composition 0.27 knows up to 2.9)
FEDERATION_VERSION = "2.9"

#: entity type -> its key field (GraphQL name)
ENTITY_KEYS: dict[str, str] = {"Citizen": "nik", "Family": "number", "Application": "number", "Complaint": "number"}
_ENTITY_TYPES = (Citizen, Family, Application, Complaint)


def declare_entity_keys() -> None:
    """Put the `@key` directives on the entity types (once per process)."""
    for cls in _ENTITY_TYPES:
        definition = cls.__strawberry_definition__
        directives = list(definition.directives or ())
        if not any(isinstance(d, Key) for d in directives):
            definition.directives = [*directives, Key(fields=ENTITY_KEYS[definition.name], resolvable=True)]


def fields_of(type_name: str) -> tuple[str, ...]:
    """The GraphQL field names of an entity type."""
    cls = next(c for c in _ENTITY_TYPES if c.__strawberry_definition__.name == type_name)
    definition = get_object_definition(cls, strict=True)
    return tuple(f.graphql_name or _camel(f.python_name) for f in definition.fields)


def _camel(name: str) -> str:
    from strawberry.utils.str_converters import to_camel_case

    return to_camel_case(name)


@contextmanager
def entities_limited_to(keep: Callable[[str], bool]) -> Iterator[None]:
    """While strawberry builds a subgraph's query type, its `_Entity` union holds only
    the entity types `keep` admits (a role's schema has no type it may not see, and a
    union may not name one). Schemas are built synchronously, one at a time."""
    original = strawberry_federation._get_entity_type

    def limited(*args: Any) -> StrawberryUnion | None:
        union = original(*args)
        if union is None:
            return None
        kept = tuple(a for a in union.type_annotations if keep(a.annotation.__strawberry_definition__.name))
        return StrawberryUnion("_Entity", type_annotations=kept) if kept else None

    strawberry_federation._get_entity_type = limited
    try:
        yield
    finally:
        strawberry_federation._get_entity_type = original


async def _refused(error: Exception) -> Any:
    raise error


def resolve_entities(info: Info[Context, None], representations: list[Any]) -> list[Awaitable[Any]]:
    ctx = info.context
    # each representation is a root lookup: no more than one document's aliases may make
    most = min(ctx.env.max_page_size, MAX_ALIASES)
    if len(representations) > most:
        raise BadUserInput(f"at most {most} representations per request",
                           details={"argument": "representations"})
    policy = ctx.env.access.policy
    results: list[Awaitable[Any]] = []
    for representation in representations:
        type_name = representation.get("__typename") if isinstance(representation, dict) else None
        key_field = ENTITY_KEYS.get(type_name) if isinstance(type_name, str) else None
        if key_field is None or set(representation) != {"__typename", key_field} \
                or not isinstance(representation[key_field], str):
            results.append(_refused(BadUserInput(
                "a representation is {__typename, key} of an entity: "
                + ", ".join(f"{t} by {k}" for t, k in ENTITY_KEYS.items()),
                details={"argument": "representations"})))
        elif not policy.may_call(ctx.principal.roles, "Query", ENTITY_ROOT_FIELDS[type_name]):
            results.append(_refused(Forbidden(f"this role may not look up {type_name} records")))
        else:
            results.append(record_by_key(ctx, type_name, representation[key_field]))
    return results


class SubgraphSchema(strawberry.federation.Schema):
    """strawberry's federation schema, with `_entities` answered by `resolve_entities`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("federation_version", FEDERATION_VERSION)
        super().__init__(*args, **kwargs)

    def entities_resolver(self, info: Info, representations: list[FederationAny]) -> list[FederationAny]:  # type: ignore[override]
        return resolve_entities(info, representations)
