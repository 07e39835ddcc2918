"""How deep an operation may nest and how many aliases it may use, checked while the
document is validated.

Strawberry's `QueryDepthLimiter` and `MaxAliasesLimiter` walk a fragment again each
time it is spread, so a document of fragments that each spread the next twice takes
exponential time (22 fragments: 13 s; 40: days). This rule computes each fragment's
depth and alias count once (counts still multiply per spread, as if expanded).

Depth counts nesting below the root fields: `{ me { subject } }` has depth 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class Shape:
    depth: int
    aliases: int


_EMPTY = Shape(0, 0)


class _Measure:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.known: dict[str, Shape] = {}
        self.visiting: set[str] = set()

    def selection_set(self, node: SelectionSetNode | None) -> Shape:
        if node is None:
            return _EMPTY
        depth = aliases = 0
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                aliases += selection.alias is not None
                if selection.selection_set is not None:
                    inner = self.selection_set(selection.selection_set)
                    depth, aliases = max(depth, 1 + inner.depth), aliases + inner.aliases
            else:
                inner = (
                    self.selection_set(selection.selection_set)
                    if isinstance(selection, InlineFragmentNode)
                    else self.fragment(selection.name.value)
                    if isinstance(selection, FragmentSpreadNode)
                    else _EMPTY
                )
                depth, aliases = max(depth, inner.depth), aliases + inner.aliases
        return Shape(depth, aliases)

    def fragment(self, name: str) -> Shape:
        if name not in self.known:
            definition = self.fragments.get(name)
            if definition is None or name in self.visiting:  # reported by other rules
                return _EMPTY
            self.visiting.add(name)
            self.known[name] = self.selection_set(definition.selection_set)
            self.visiting.discard(name)
        return self.known[name]


def shape_rule(*, max_depth: int, max_aliases: int) -> type[ValidationRule]:
    if max_depth < 1 or max_aliases < 0:
        raise ValueError("max_depth must be at least 1 and max_aliases not negative")
    class ShapeRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            document = context.document
            measure = _Measure(
                {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
            )
            for definition in document.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                shape = measure.selection_set(definition.selection_set)
                name = definition.name.value if definition.name else "anonymous"
                if shape.depth > max_depth:
                    context.report_error(GraphQLError(
                        f"'{name}' exceeds maximum operation depth of {max_depth} (it has {shape.depth})",
                        definition,
                    ))
                if shape.aliases > max_aliases:
                    context.report_error(GraphQLError(
                        f"{shape.aliases} aliases found in '{name}'. Allowed: {max_aliases}", definition
                    ))

    return ShapeRule


class ShapeLimiter(SchemaExtension):
    """Adds the depth and alias rule to validation (cached with the rest of it).

    Pass a `rule` made once per schema with `shape_rule`: the validation cache is keyed
    by the rule classes, so a class made per request would never hit it."""

    def __init__(
        self,
        *,
        rule: type[ValidationRule] | None = None,
        max_depth: int | None = None,
        max_aliases: int | None = None,
    ) -> None:
        if rule is None:
            if max_depth is None or max_aliases is None:
                raise ValueError("give a prebuilt rule, or max_depth and max_aliases")
            rule = shape_rule(max_depth=max_depth, max_aliases=max_aliases)
        self.rule = rule

    def on_operation(self) -> Iterator[None]:
        self.execution_context.validation_rules = (*self.execution_context.validation_rules, self.rule)
        yield


__all__ = ["Shape", "ShapeLimiter", "shape_rule"]
