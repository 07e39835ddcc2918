"""Building the executable schema: one per role set, at start-up.

A role's schema holds only the fields its policy lets it see, so hidden fields are
absent from validation and introspection alike (strawberry has no per-request field
visibility). The full schema (every field) exists once, to give the policy loader its
catalogue and to compute each role's visible fields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from cachetools import LRUCache
from strawberry.extensions import DisableIntrospection, ParserCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from auth.policy import Limits, Policy
from schema.access import ENTITY_ROOT_FIELDS, visible_pairs
from schema.extensions.cost import DEFAULT_LIST_ESTIMATE, Costs, QueryCostLimiter
from schema.extensions.operation import SingleOperationGuard
from schema.extensions.personal_data import PersonalDataExtension
from schema.extensions.shape import MAX_ALIASES, ShapeLimiter, ShapeLimits, Verdicts
from schema.extensions.source_trace import SourceTraceExtension
from schema.extensions.validation import TextValidationCache, ValidationResults
from schema.fast_path import use_fast_path
from schema.federation import SubgraphSchema, declare_entity_keys, entities_limited_to, fields_of as _fields_of
from schema.root import Mutation, Query, Subscription
from schema.selection import SelectionIndex

Visibility = Callable[[str, str], bool]

# defaults for a role whose policy sets no limit (`limits:` in the policy file)
MAX_DEPTH = 10
MAX_QUERY_COST = 1000
# what parsing and validation may cost (schema/extensions/shape.py;
# `python -m bench.adversarial` prints what the costliest documents found within these
# limits cost); GraphiQL's introspection query has 1.6 KB, 183 tokens, 4 definitions
# and 244 selections
MAX_DOCUMENT_LENGTH = 32 * 1024
MAX_TOKENS = 3000
MAX_DEFINITIONS = 30  # operations and fragments
MAX_SELECTIONS = 400
MAX_REPEATED_FIELDS = 10


def _everything(type_name: str, field_name: str) -> bool:
    return True


class RoleSchema(strawberry.Schema):
    """A schema whose fields are filtered by a visibility rule when it is built."""

    def __init__(self, *args: Any, visible: Visibility = _everything, **kwargs: Any) -> None:
        self._visible = visible
        super().__init__(*args, **kwargs)
        self.selection_index = SelectionIndex(self._schema)

    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        """Errors are logged once, by code, where they are formatted (schema.errors)."""

    def get_fields(self, type_definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        fields = type_definition.fields
        converter = self.config.name_converter
        type_name = converter.from_object(type_definition)  # specialised generics too
        return [f for f in fields if self._visible(type_name, converter.get_graphql_name(f))]


class SubgraphRoleSchema(RoleSchema, SubgraphSchema):
    """A role's schema as an Apollo Federation v2 subgraph (schema.federation): its
    `_Entity` union holds the entities the role may look up and see."""

    def _get_federation_query_type(self, *args: Any, **kwargs: Any) -> type:
        def keep(name: str) -> bool:  # an entity the role may look up by key, and see
            return self._visible("Query", ENTITY_ROOT_FIELDS[name]) and any(self._visible(name, f) for f in _fields_of(name))

        with entities_limited_to(keep):
            return super()._get_federation_query_type(*args, **kwargs)


def shape_limits(limits: Limits) -> ShapeLimits:
    """What a document may hold for a role with `limits` (the defaults above where unset)."""
    return ShapeLimits(
        max_length=limits.max_document_length or MAX_DOCUMENT_LENGTH,
        max_tokens=limits.max_tokens or MAX_TOKENS,
        max_definitions=limits.max_definitions or MAX_DEFINITIONS,
        max_depth=limits.max_depth or MAX_DEPTH,
        max_aliases=MAX_ALIASES,
        max_selections=limits.max_selections or MAX_SELECTIONS,
        max_repeated_fields=limits.max_repeated_fields or MAX_REPEATED_FIELDS,
    )


def build_schema(
    *,
    visible: Visibility = _everything,
    with_mutation: bool = True,
    with_subscription: bool = True,
    limits: Limits | None = None,
    fast_path: bool = True,
    federation: bool = False,
) -> RoleSchema:
    """A schema showing the `visible` fields, refusing documents over `limits` (size,
    shape, cost, introspection; a limit left None takes the default above), on the fast
    executor when `fast_path` and the installed releases allow (`schema.fast_path`); a
    federation subgraph (`_entities`, `_service`: schema.federation) when `federation`."""
    limits = limits or Limits()
    max_cost = limits.max_query_cost or MAX_QUERY_COST
    shape = shape_limits(limits)
    verdicts: Verdicts = LRUCache(maxsize=256)
    validated: ValidationResults = LRUCache(maxsize=256)  # this schema's, shared by its requests
    costs = Costs(maxsize=512)
    if federation:
        declare_entity_keys()
    schema = (SubgraphRoleSchema if federation else RoleSchema)(
        query=Query,
        mutation=Mutation if with_mutation else None,
        subscription=Subscription if with_subscription else None,
        visible=visible,
        config=StrawberryConfig(auto_camel_case=True),
        extensions=[
            lambda: ShapeLimiter(shape, verdicts),  # length and tokens when parsing, shape before validating
            lambda: ParserCache(maxsize=256),
            lambda: TextValidationCache(validated),
            *([DisableIntrospection] if limits.introspection is False else []),
            lambda: QueryCostLimiter(maximum=max_cost, list_estimate=DEFAULT_LIST_ESTIMATE, costs=costs),
            SingleOperationGuard,  # before any other execution hook
            PersonalDataExtension,
            SourceTraceExtension,
        ],
    )
    if fast_path:
        use_fast_path(schema)
    return schema


def build_role_schema(full: RoleSchema, policy: Policy, roles: frozenset[str]) -> RoleSchema:
    """The schema for a principal holding `roles` (a subgraph where `full` is one)."""
    pairs = visible_pairs(policy, roles, full._schema)
    has_mutation = any(t == "Mutation" for t, _ in pairs)
    has_subscription = any(t == "Subscription" for t, _ in pairs)
    return build_schema(
        visible=lambda t, f: (t, f) in pairs, with_mutation=has_mutation, with_subscription=has_subscription,
        limits=policy.limits(roles),
        federation=isinstance(full, SubgraphSchema),
    )
