"""What a document may hold before it is validated: its length and tokens, how many
operations and fragments, its depth and aliases, how many selections it makes and how
many fields answer under one response name.

Validation costs more than its input suggests. graphql-core's overlapping-fields rule
compares every pair of fields that answer under the same response name, and the
fields under them, pair by pair: 400 copies of `trackApplication(number: "x") {
status }` (15 KB) take more than a second to validate, and nested or fragment-spread
copies as long again (see `bench/adversarial.py`). So the document is measured first,
in one pass over the parsed AST, and refused with QUERY_TOO_COMPLEX while that is
still cheap; validation then runs only on documents whose cost is bounded.

- length: characters of the text, checked before it is lexed (the token limit does
  not bound a long string or comment, whose lexing time grows with its length);
- tokens: checked while it is parsed (parsing time grows with the tokens);
- definitions: operations and fragments (validation walks each one again for its
  variables);
- depth: nesting below the root fields (`{ me { subject } }` has depth 1), outside
  introspection;
- introspection depth and lists (see below);
- aliases: aliased fields;
- selections: fields, inline fragments and fragment spreads, and the arguments,
  directives and variables written on them (each argument value counts its list items
  and object fields too), counted as if every fragment were written out where it is
  spread;
- repeated fields: the most fields answering under one response path (`{ a: x a: x }`
  has 2), i.e. merged by execution and compared pairwise by validation.

Introspection (`__schema`, `__type`) has its own bounds, because the query every IDE
sends to learn the schema (graphql-js' `getIntrospectionQuery`, GraphiQL's) is 14 deep
(`__schema types fields args type` and nine `ofType`), deeper than any role's depth
limit, yet its answer is small: each list it reads walks the role's schema once. What
makes an introspection answer large is listing a type's members again under a member:
`types { fields { type { fields { type { fields ...` multiplies the schema's size by
itself at each level. So inside an introspection field:

- its depth (the introspection field counted) is held to `max_introspection_depth`
  (16: the IDE query's 14 and a margin; a deeper `ofType` chain is refused), and counts
  as 1 towards the document's depth;
- along any path, a type's member lists (`fields`, `inputFields`, `interfaces`,
  `possibleTypes`, `enumValues`) may be selected at most `max_introspection_lists`
  times (1: the IDE query lists each type's members once and refers to other types by
  name through `TypeRef`), so the answer grows with the schema, not with a power of it;
- the other limits (length, tokens, aliases, selections, repeated fields) apply as to
  any other part of the document, so a huge introspection document is refused too.

Fields are recognised by name before validation; validation then refuses an
introspection field anywhere but at the root of a query, and a member list on
anything but a `__Type`, so a document cannot pass for introspection to escape the
depth limit.

Each fragment is measured once and its counts multiplied where it is spread (capped),
so a document of fragments that each spread the next twice (2^60 selections) is
measured in linear time. Fragments that no operation spreads are measured as if
spread once (validation still walks them). Repeated fields are counted by walking the
expanded document only once its selection count is known to be within the limit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from cachetools import LRUCache
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    ValueNode,
    VariableDefinitionNode,
)
from strawberry.extensions import SchemaExtension

from schema.extensions.cost import QueryTooComplex

#: counts stop growing here: enough to exceed any limit, small enough to stay cheap
_CAP = 10**9
#: the fields that open an introspection subtree
INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
#: `__Type`'s lists of members (see the module docstring)
MEMBER_LISTS = frozenset({"fields", "inputFields", "interfaces", "possibleTypes", "enumValues"})
MAX_INTROSPECTION_DEPTH = 16
MAX_INTROSPECTION_LISTS = 1

#: aliases in one document, for every role: the most root lookups (`a: citizen(nik: …)
#: b: citizen(nik: …)`) one request can make, and so the most representations one
#: `_entities` request may look up (schema.federation)
MAX_ALIASES = 30


@dataclass(frozen=True, slots=True)
class ShapeLimits:
    """One role's bounds on a document (see the module docstring)."""

    max_length: int
    max_tokens: int
    max_definitions: int
    max_depth: int
    max_aliases: int
    max_selections: int
    max_repeated_fields: int
    max_introspection_depth: int = MAX_INTROSPECTION_DEPTH
    max_introspection_lists: int = MAX_INTROSPECTION_LISTS

    def __post_init__(self) -> None:
        positive = (self.max_length, self.max_tokens, self.max_definitions, self.max_depth,
                    self.max_selections, self.max_repeated_fields, self.max_introspection_depth,
                    self.max_introspection_lists)
        if min(positive) < 1:
            raise ValueError("document limits must be positive")
        if self.max_aliases < 0:
            raise ValueError("max_aliases must not be negative")


@dataclass(frozen=True, slots=True)
class Shape:
    depth: int
    aliases: int
    selections: int
    repeated_fields: int = 0  # measured only when the selections are within the limit
    definitions: int = 0
    introspection_depth: int = 0  # the deepest introspection field, itself counted
    introspection_lists: int = 0  # the most member lists on one path inside introspection
    member_lists: int = 0  # the most member lists on one path, wherever (to compute the above)


_EMPTY = Shape(0, 0, 0)


def _value(node: ValueNode) -> int:
    if isinstance(node, ListValueNode):
        return 1 + sum(_value(item) for item in node.values)
    if isinstance(node, ObjectValueNode):
        return 1 + sum(_value(field.value) for field in node.fields)
    return 1


def _directives(node: SelectionNode | OperationDefinitionNode | VariableDefinitionNode) -> int:
    return sum(1 + sum(_value(a.value) for a in d.arguments or ()) for d in node.directives or ())


def _variables(operation: OperationDefinitionNode) -> int:
    return _directives(operation) + sum(
        1 + _directives(v) + (_value(v.default_value) if v.default_value is not None else 0)
        for v in operation.variable_definitions or ()
    )


class _Measure:
    """Depth, aliases and selections of selection sets, each fragment measured once."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.known: dict[str, Shape] = {}
        self.visiting: set[str] = set()

    def selection_set(self, node: SelectionSetNode | None) -> Shape:
        if node is None:
            return _EMPTY
        depth = aliases = selections = 0
        introspection_depth = introspection_lists = member_lists = 0
        for selection in node.selections:
            written = 1 + _directives(selection)
            lists = 0
            if isinstance(selection, FieldNode):
                aliases += selection.alias is not None
                written += sum(_value(a.value) for a in selection.arguments or ())
                inner = self.selection_set(selection.selection_set)
                name = selection.name.value
                if name in INTROSPECTION_FIELDS:  # its own bounds (see the module docstring)
                    introspection_depth = max(introspection_depth, 1 + inner.depth)
                    introspection_lists = max(introspection_lists, inner.member_lists)
                    if selection.selection_set is not None:
                        depth = max(depth, 1)
                elif selection.selection_set is not None:
                    depth = max(depth, 1 + inner.depth)
                lists = name in MEMBER_LISTS
            elif isinstance(selection, InlineFragmentNode):
                inner = self.selection_set(selection.selection_set)
                depth = max(depth, inner.depth)
            elif isinstance(selection, FragmentSpreadNode):
                inner = self.fragment(selection.name.value)
                depth = max(depth, inner.depth)
            else:  # pragma: no cover - graphql-core has no other selection
                continue
            introspection_depth = max(introspection_depth, inner.introspection_depth)
            introspection_lists = max(introspection_lists, inner.introspection_lists)
            member_lists = max(member_lists, lists + inner.member_lists)
            aliases = min(aliases + inner.aliases, _CAP)
            selections = min(selections + written + inner.selections, _CAP)
        return Shape(depth, aliases, selections, introspection_depth=introspection_depth,
                     introspection_lists=introspection_lists, member_lists=member_lists)

    def fragment(self, name: str) -> Shape:
        if name not in self.known:
            definition = self.fragments.get(name)
            if definition is None or name in self.visiting:  # reported by validation
                return _EMPTY
            self.visiting.add(name)
            self.known[name] = self.selection_set(definition.selection_set)
            self.visiting.discard(name)
        return self.known[name]


class _Repeats:
    """The most fields under one response path, walking the expanded document (callers
    first make sure it is small)."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments

    def most(self, sets: Sequence[SelectionSetNode]) -> int:
        by_name: dict[str, list[FieldNode]] = {}
        for node in sets:
            self._collect(node, by_name, frozenset())
        most = 0
        for fields in by_name.values():
            children = [f.selection_set for f in fields if f.selection_set is not None]
            most = max(most, len(fields), self.most(children) if children else 0)
        return most

    def _collect(self, node: SelectionSetNode, into: dict[str, list[FieldNode]], spreading: frozenset[str]) -> None:
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                name = (selection.alias or selection.name).value
                into.setdefault(name, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                self._collect(selection.selection_set, into, spreading)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                definition = self.fragments.get(name)
                if definition is not None and name not in spreading:  # a cycle: reported by validation
                    self._collect(definition.selection_set, into, spreading | {name})


def measure(document: DocumentNode, *, max_selections: int = _CAP) -> Shape:
    """The shape of every operation of `document` taken together (depth: the deepest),
    plus the fragments no operation spreads. Repeated fields are counted only when the
    selections are at most `max_selections` (else left 0)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    measured = _Measure(fragments)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    roots = [d.selection_set for d in operations]
    shapes = [measured.selection_set(root) for root in roots]
    shapes += [Shape(0, 0, _variables(d)) for d in operations]
    for name, definition in fragments.items():
        if name not in measured.known:  # spread by no operation (validation refuses it later)
            shapes.append(measured.fragment(name))
            roots.append(definition.selection_set)
    depth = max((s.depth for s in shapes), default=0)
    aliases = min(sum(s.aliases for s in shapes), _CAP)
    selections = min(sum(s.selections for s in shapes), _CAP)
    repeats = _Repeats(fragments)
    small = selections <= max_selections and selections < _CAP
    repeated = max((repeats.most([root]) for root in roots), default=0) if small else 0
    return Shape(
        depth, aliases, selections, repeated, len(document.definitions),
        introspection_depth=max((s.introspection_depth for s in shapes), default=0),
        introspection_lists=max((s.introspection_lists for s in shapes), default=0),
    )


#: the limit a document exceeds: (name, the document's value, the maximum)
Exceeded = tuple[str, int, int]


def exceeded(shape: Shape, limits: ShapeLimits) -> Exceeded | None:
    """The first limit `shape` exceeds, or None."""
    for limit, value, maximum in (
        ("definitions", shape.definitions, limits.max_definitions),
        ("depth", shape.depth, limits.max_depth),
        ("introspectionDepth", shape.introspection_depth, limits.max_introspection_depth),
        ("introspectionLists", shape.introspection_lists, limits.max_introspection_lists),
        ("aliases", shape.aliases, limits.max_aliases),
        ("selections", shape.selections, limits.max_selections),
        ("repeatedFields", shape.repeated_fields, limits.max_repeated_fields),
    ):
        if value > maximum:
            return limit, value, maximum
    return None


def too_complex(limit: Exceeded) -> QueryTooComplex:
    name, value, maximum = limit
    message = _MESSAGES[name].format(value=value, maximum=maximum)
    return QueryTooComplex(message, details={"limit": name, "value": value, "maximum": maximum})


def refusal(shape: Shape, limits: ShapeLimits) -> QueryTooComplex | None:
    """The error for the first limit `shape` exceeds, or None."""
    limit = exceeded(shape, limits)
    return too_complex(limit) if limit is not None else None


_MESSAGES = {
    "definitions": "The document holds {value} operations and fragments, more than the {maximum} allowed",
    "depth": "The document exceeds the maximum operation depth of {maximum} (it has {value})",
    "aliases": "{value} aliases found in the document. Allowed: {maximum}",
    "introspectionDepth": "The introspection part of the document is {value} deep, more than the {maximum} "
                          "allowed (the standard introspection query of GraphiQL and graphql-js is 14)",
    "introspectionLists": "The introspection part of the document lists a type's members (fields, "
                          "inputFields, interfaces, possibleTypes, enumValues) {value} times on one path, "
                          "more than the {maximum} allowed: list them once and refer to other types by name",
    "selections": "The document makes {value} selections (fields and fragments with their arguments, directives "
                  "and variables, counted as if every fragment were written out where it is spread), more than "
                  "the {maximum} allowed for your role",
    "repeatedFields": "{value} fields answer under one response name, more than the {maximum} allowed for "
                      "your role: select each field once",
}


#: text -> the limit that document exceeds (None: none), for one schema
Verdicts = LRUCache[str, Exceeded | None]
_UNSEEN = ("", 0, 0)


class ShapeLimiter(SchemaExtension):
    """Refuses a document over `limits`: its length and tokens while it is parsed
    (graphql-core's own limits; see `schema.errors.parse_limit`), its shape after
    parsing and before validation. Verdicts are kept by text in `verdicts` (bounded,
    one per schema), so a known document is not walked again.

    The refusal is a pre-execution error (what validation errors are), not a raised
    exception, so that it reads the same over HTTP and over a WebSocket.

    Pass as a factory sharing one `ShapeLimits` and one `Verdicts`:
    `lambda: ShapeLimiter(limits, LRUCache(maxsize=256))`, both made once."""

    def __init__(self, limits: ShapeLimits, verdicts: Verdicts | None = None) -> None:
        self.limits = limits
        self.verdicts = verdicts

    def on_operation(self) -> Iterator[None]:
        options = self.execution_context.parse_options
        options["max_tokens"] = self.limits.max_tokens
        options["max_source_length"] = self.limits.max_length  # type: ignore[typeddict-unknown-key]
        yield

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        document, query = execution.graphql_document, execution.query
        if document is not None:
            verdicts = self.verdicts
            limit = verdicts.get(query, _UNSEEN) if verdicts is not None and query is not None else _UNSEEN
            if limit is _UNSEEN:
                limit = exceeded(measure(document, max_selections=self.limits.max_selections), self.limits)
                if verdicts is not None and query is not None:  # no text: not cached
                    verdicts[query] = limit
            if limit is not None:  # validation is skipped (see TextValidationCache)
                error = too_complex(limit)
                execution.pre_execution_errors = [GraphQLError(error.message, original_error=error)]
        yield


__all__ = [
    "INTROSPECTION_FIELDS", "MAX_INTROSPECTION_DEPTH", "MAX_INTROSPECTION_LISTS", "MEMBER_LISTS",
    "Exceeded", "Shape", "ShapeLimiter", "ShapeLimits", "Verdicts", "exceeded", "measure", "refusal", "too_complex",
]
