"""Building the executable schema: one per role, at start-up.

A role's schema holds only the fields its policy lets it see, so hidden fields are
absent from validation and introspection alike (strawberry has no per-request field
visibility). `visible(type_name, field_name)` decides; types left with no visible
field disappear together with every field that returns them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.extensions import (
    MaxAliasesLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from schema.extensions.source_trace import SourceTraceExtension
from schema.queries import Query

Visibility = Callable[[str, str], bool]

MAX_DEPTH = 10
MAX_ALIASES = 30


def _everything(type_name: str, field_name: str) -> bool:
    return True


class RoleSchema(strawberry.Schema):
    """A schema whose fields are filtered by a visibility rule when it is built."""

    def __init__(self, *args: Any, visible: Visibility = _everything, **kwargs: Any) -> None:
        self._visible = visible
        super().__init__(*args, **kwargs)

    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        """Errors are logged once, by code, where they are formatted (schema.errors)."""

    def get_fields(self, type_definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        fields = type_definition.fields
        if type_definition.is_input or type_definition.name in ("PageInfo",):
            return fields
        name_of = self.config.name_converter.get_graphql_name
        return [f for f in fields if self._visible(type_definition.name, name_of(f))]


def build_schema(*, visible: Visibility = _everything) -> RoleSchema:
    return RoleSchema(
        query=Query,
        visible=visible,
        config=StrawberryConfig(auto_camel_case=True),
        extensions=[
            lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
            lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
            SourceTraceExtension,
        ],
    )
