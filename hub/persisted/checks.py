"""Checking persisted documents against a schema, as a request would be checked.

A document is refused by the hub before it runs when it is longer or has more tokens
than the role's limits, when its shape exceeds them (schema.extensions.shape), or when
it does not validate against the role's schema (a field the role may not see is absent
from it). `document_problems` runs those same checks without a request, so that a push
fails on an operation the role could never run, rather than the app failing in
production; and `hub operations check` runs them against a new schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from graphql import GraphQLSchema, GraphQLSyntaxError, parse, validate

from hub.persisted.manifest import ManifestOperation
from schema.extensions.shape import ShapeLimits, measure, refusal


@dataclass(frozen=True, slots=True)
class Target:
    """What an operation is checked against: a role's schema (`label` names it in
    messages) and, for a role of the running hub, its document limits."""

    label: str
    schema: GraphQLSchema
    limits: ShapeLimits | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    operation_id: str
    operation_name: str | None
    target: str
    message: str

    def __str__(self) -> str:
        name = f" ({self.operation_name})" if self.operation_name else ""
        return f"{self.operation_id}{name} for {self.target}: {self.message}"


def document_problems(body: str, target: Target) -> list[str]:
    """Why `body` would be refused before it runs under `target` (empty: it would run)."""
    limits = target.limits
    if limits is not None and len(body) > limits.max_length:
        return [f"the document has {len(body)} characters, more than the {limits.max_length} allowed"]
    try:
        document = parse(body, no_location=False, max_tokens=limits.max_tokens if limits else None)
    except GraphQLSyntaxError as exc:
        return [exc.message]
    if limits is not None:
        error = refusal(measure(document, max_selections=limits.max_selections), limits)
        if error is not None:
            return [error.message]
    return [error.message for error in validate(target.schema, document)]


def check_operations(operations: Iterable[ManifestOperation], targets: Mapping[str, Iterable[Target]]) -> list[Problem]:
    """Every problem of every operation under each of the targets given for its id."""
    problems = []
    for operation in operations:
        for target in targets.get(operation.id, ()):
            problems.extend(
                Problem(operation.id, operation.name, target.label, message)
                for message in document_problems(operation.body, target)
            )
    return problems


__all__ = ["Problem", "Target", "check_operations", "document_problems"]
