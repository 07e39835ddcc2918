"""How deep an operation may nest, checked while the document is validated.

Strawberry's `QueryDepthLimiter` walks every fragment spread again each time it is
spread, so a document of fragments that each spread the next twice takes exponential
time (40 fragments: 2^40 visits). This rule computes each fragment's depth once.

Depth counts nesting below the root fields: `{ me { subject } }` has depth 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from strawberry.extensions import SchemaExtension


def _depths(fragments: dict[str, FragmentDefinitionNode]) -> Any:
    known: dict[str, int] = {}
    visiting: set[str] = set()

    def depth(node: SelectionSetNode | None) -> int:
        if node is None:
            return 0
        deepest = 0
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                if selection.selection_set is not None:
                    deepest = max(deepest, 1 + depth(selection.selection_set))
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, depth(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                deepest = max(deepest, fragment(selection.name.value))
        return deepest

    def fragment(name: str) -> int:
        if name not in known:
            definition = fragments.get(name)
            if definition is None or name in visiting:  # reported by other rules
                return 0
            visiting.add(name)
            known[name] = depth(definition.selection_set)
            visiting.discard(name)
        return known[name]

    return depth


def depth_rule(max_depth: int) -> type[ValidationRule]:
    class MaxDepth(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            document = context.document
            fragments = {
                d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
            }
            depth = _depths(fragments)
            for definition in document.definitions:
                if isinstance(definition, OperationDefinitionNode):
                    found = depth(definition.selection_set)
                    if found > max_depth:
                        name = definition.name.value if definition.name else "anonymous"
                        context.report_error(
                            GraphQLError(
                                f"'{name}' exceeds maximum operation depth of {max_depth} (it has {found})",
                                definition,
                            )
                        )

    return MaxDepth


class MaxDepthLimiter(SchemaExtension):
    """Adds the depth rule to validation (cached with the rest of validation)."""

    def __init__(self, *, max_depth: int) -> None:
        if max_depth < 1:
            raise ValueError("max_depth must be at least 1")
        self.rule = depth_rule(max_depth)

    def on_operation(self) -> Iterator[None]:
        self.execution_context.validation_rules = (*self.execution_context.validation_rules, self.rule)
        yield


__all__ = ["MaxDepthLimiter", "depth_rule"]
