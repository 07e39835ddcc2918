"""A faster execution of plain fields, for large lists of records.

graphql-core executes every field through the full resolver machinery (resolve info,
strawberry's resolver wrapper, awaitable checks, value completion) for each field, which
adds up on a long listing (what the generated completers save: docs/performance.md). Most fields of our records are plain attributes of
objects the policy already shaped (masks applied, withheld fields nulled): a connection's
`edges`, an edge's `node`, a citizen's `fullName`. For a field that

  - has no resolver of its own, no arguments, no permission classes, no field extensions,
    no exception handlers, strawberry's default resolver (`getattr`), and no directive on
    its definition or its type's,
  - carries no directive but @skip/@include in the document,
  - returns a scalar or enum (a leaf), an object type, or a list of an object type whose
    objects need no `is_type_of` check (no interfaces),
  - and runs with no resolve-wrapping schema extension (middleware: `schema.fast_path`
    refuses such a schema at build, and a request that has one anyway takes the
    ordinary path throughout),

reading the attribute is exactly what the general path's resolver does, so the value is
taken directly: a leaf is coerced (a str for String and ID, a Python enum member for an
enum, as a table look-up), an object's own fields are collected and executed (again on
this path), a list's items likewise; a list whose items' selection holds only leaves and
such objects (an edge and its node) is completed by one function per item, without
paths (a function written for the selection: `schema.flat_completion`).
Everything else goes graphql-core's ordinary way, and so do the hard cases of the plain
fields: a null where the schema says non-null, a value the scalar cannot serialise, an
exception as a value, a list that is not a list or holds nulls or awaitables. Errors inside an
object or a list item are handled as graphql-core handles them (`handle_field_error` at
the same path: null at the nearest nullable position), so answers, errors and their
paths are unchanged; the tests run every query both ways, and hypothesis draws
thousands more (tests/schema/test_fast_path_differential.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLID,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLString,
)
from graphql.execution.collect_fields import (
    FieldDetailsList,
    GroupedFieldSet,
)
from graphql.pyutils import Path, Undefined, gather_with_cancel
from graphql.type import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLOutputType,
    is_leaf_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

from schema import flat_completion as flat
from schema.flat_completion import Completer, FlatField, leaf_value

# What a response key of a selection is, and how it is completed on the fast path.
ORDINARY, TYPENAME, LEAF, OBJECT, LIST = range(5)


class Step:
    """One response key of a selection set: its kind and what completing it needs
    (LEAF: attr, coerce, shown, nullable; OBJECT and LIST: attr, nullable, object_type,
    return_type, details, and for LIST the item_type)."""

    __slots__ = (
        "attr",
        "coerce",
        "details",
        "item_type",
        "kind",
        "name",
        "nullable",
        "object_type",
        "return_type",
        "shown",
    )

    def __init__(self, name: str, kind: int, **parts: Any) -> None:
        self.name = name
        self.kind = kind
        self.attr: str = parts.get("attr", "")
        self.coerce: Callable[[Any], Any] | None = parts.get("coerce")
        self.shown: dict[Any, Any] | type | None = parts.get("shown")  # see `_shown_as_is`
        self.nullable: bool = parts.get("nullable", True)
        self.object_type: GraphQLObjectType | None = parts.get("object_type")
        self.return_type: GraphQLOutputType | None = parts.get("return_type")
        self.item_type: GraphQLOutputType | None = parts.get("item_type")  # a list's item type, maybe non-null
        self.details: FieldDetailsList | None = parts.get("details")


def _shown_as_is(leaf: GraphQLScalarType | GraphQLEnumType) -> dict[Any, Any] | type | None:
    """What a leaf's serialisation is known to be without calling it: `str` for String
    and ID (a str value is its own answer), or an enum's {Python member: name}; None
    when every value goes through `coerce_output_value`."""
    if leaf is GraphQLString or leaf is GraphQLID:
        return str
    wrapped = getattr(leaf, "wrapped_cls", None)  # strawberry's enums answer for the Python members
    if isinstance(leaf, GraphQLEnumType) and isinstance(wrapped, type) and issubclass(wrapped, Enum):
        try:
            return {member: _enum_name(leaf, member) for member in wrapped}
        except (TypeError, LookupError):  # unhashable values, a member without a GraphQL value
            return None
    return None


def _enum_name(leaf: GraphQLEnumType, member: Enum) -> str:
    """As strawberry's `coerce_output_value`: the first GraphQL value equal to the member's."""
    for name, value in leaf.values.items():
        if value.value == member.value:
            return name
    raise LookupError(member)


def _coerced(step: Step, value: Any) -> Any:
    """A leaf's output value, or Undefined when the ordinary path must report a problem."""
    return leaf_value(step.shown, step.coerce, value)


def _unwrap(gtype: GraphQLOutputType) -> tuple[GraphQLOutputType, bool]:
    if isinstance(gtype, GraphQLNonNull):
        return gtype.of_type, False
    return gtype, True


def _plain_object(gtype: Any) -> GraphQLObjectType | None:
    if isinstance(gtype, GraphQLObjectType) and gtype.is_type_of is None:
        return gtype
    return None


def _step(parent_type: GraphQLObjectType, name: str, details: FieldDetailsList) -> Step:
    nodes = [d.node for d in details]
    field_name = nodes[0].name.value
    if field_name == "__typename":
        return Step(name, TYPENAME)
    if any(n.arguments for n in nodes) or any(
        d.name.value not in ("skip", "include") for n in nodes for d in n.directives or ()
    ):
        return Step(name, ORDINARY)
    kind, parts = _field_kind(parent_type, field_name)
    return Step(name, kind, details=details, **parts)


#: parent type -> field name -> how the field completes, kept across requests for as
#: long as the schema holding the type lives
_KINDS: WeakKeyDictionary[GraphQLObjectType, dict[str, tuple[int, dict[str, Any]]]] = WeakKeyDictionary()


def _field_kind(parent_type: GraphQLObjectType, field_name: str) -> tuple[int, dict[str, Any]]:
    fields = _KINDS.get(parent_type)
    if fields is None:
        fields = _KINDS[parent_type] = {}
    known = fields.get(field_name)
    if known is None:
        known = fields[field_name] = _classify(parent_type, field_name)
    return known


def _reads_attribute(definition: Any) -> bool:
    """Whether strawberry gets the field's value as `getattr(source, python_name)`: no
    resolver, no field extensions (permission classes are one), the default resolver,
    the field class's own `get_result`, and no directive on the field."""
    return (
        isinstance(definition, StrawberryField)
        and definition.base_resolver is None
        and not definition.extensions
        and not definition.permission_classes
        and definition.default_resolver is getattr
        and type(definition).get_result is StrawberryField.get_result
        and not definition.directives
    )


def _classify(parent_type: GraphQLObjectType, field_name: str) -> tuple[int, dict[str, Any]]:
    field = parent_type.fields.get(field_name)
    # strawberry marks the resolver it made for a field that only reads an attribute
    # (none of: resolver, field extensions, exception handlers)
    if field is None or field.args or not getattr(field.resolve, "_is_default", False):
        return ORDINARY, {}
    definition = (field.extensions or {}).get("strawberry-definition")
    type_definition = (parent_type.extensions or {}).get("strawberry-definition")
    if not _reads_attribute(definition) or getattr(type_definition, "directives", None):
        return ORDINARY, {}
    attr = definition.python_name
    inner, nullable = _unwrap(field.type)
    if is_leaf_type(inner) and isinstance(inner, (GraphQLScalarType, GraphQLEnumType)):
        return LEAF, {"attr": attr, "coerce": inner.coerce_output_value, "nullable": nullable,
                      "shown": _shown_as_is(inner)}
    if (object_type := _plain_object(inner)) is not None:
        return OBJECT, {"attr": attr, "nullable": nullable, "object_type": object_type, "return_type": field.type}
    if isinstance(inner, GraphQLList):
        item, _ = _unwrap(inner.of_type)
        if (object_type := _plain_object(item)) is not None:
            return LIST, {"attr": attr, "nullable": nullable, "object_type": object_type,
                          "return_type": field.type, "item_type": inner.of_type}
    return ORDINARY, {}


class FastPlainExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's execution, with plain fields read directly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        self._fast = manager is None or not getattr(manager, "middlewares", ())
        self._plans: dict[int, tuple[GroupedFieldSet, tuple[Step, ...]]] = {}
        self._flat: dict[int, tuple[GroupedFieldSet, Completer | None]] = {}

    def build_response(self, data: dict[str, Any] | None) -> Any:
        """The response; then, unless work goes on in the background, the references that
        make this context a reference cycle are dropped (`async_helpers` holds bound
        methods of the context), so that the context and all it collected for the request
        (grouped fields, plans) are freed at once instead of by the cyclic collector."""
        response = super().build_response(data)
        if not self.background_futures and not self.pending_incremental_futures:
            self.async_helpers = None  # type: ignore[assignment]
            self._plans.clear()
            self._flat.clear()
            self._relevant_sub_fields.clear()
        return response

    def _plan(self, parent_type: GraphQLObjectType, grouped: GroupedFieldSet) -> tuple[Step, ...]:
        plans = self._plans
        cached = plans.get(id(grouped))
        if cached is not None and cached[0] is grouped:
            return cached[1]
        plan = tuple(_step(parent_type, name, details) for name, details in grouped.items())
        plans[id(grouped)] = (grouped, plan)  # keep `grouped` alive: ids stay unique
        return plan

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        if not self._fast or path is None or source_value is None:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        results: dict[str, Any] = {}
        pending: list[tuple[str, Any]] = []
        awaiting: list[str] = []
        try:
            for step in self._plan(parent_type, grouped_field_set):
                kind = step.kind
                if kind == LEAF:
                    value = getattr(source_value, step.attr, Undefined)
                    if value is None:
                        if step.nullable:
                            results[step.name] = None
                            continue
                    elif value is not Undefined:
                        shown = step.shown
                        if shown is str and value.__class__ is str:
                            results[step.name] = value
                            continue
                        coerced = _coerced(step, value)
                        if coerced is not Undefined:
                            results[step.name] = coerced
                            continue
                elif kind == TYPENAME:
                    results[step.name] = parent_type.name
                    continue
                elif kind != ORDINARY:
                    completed = self._complete_plain(step, parent_type, source_value, path, position_context)
                    if completed is not Undefined:
                        results[step.name] = completed
                        if self.is_awaitable(completed):
                            awaiting.append(step.name)
                        continue
                pending.append((step.name, grouped_field_set[step.name]))
            rest = (
                super().execute_fields(parent_type, source_value, path, dict(pending), position_context)
                if pending else None
            )
        except Exception:
            if awaiting:
                self.settle_in_background([results[name] for name in awaiting])
            raise
        if pending:
            if self.is_awaitable(rest):
                if awaiting:
                    awaiting.append("")
                    results[""] = rest
                else:
                    return self._merged(results, rest, grouped_field_set)  # type: ignore[arg-type]
            else:
                results.update(rest)  # type: ignore[arg-type]
        if awaiting:
            return self._gathered(results, awaiting, grouped_field_set)
        return results if not pending else {name: results[name] for name in grouped_field_set if name in results}

    async def _merged(self, results: dict[str, Any], rest: Awaitable[dict[str, Any]],
                      grouped: GroupedFieldSet) -> dict[str, Any]:
        results.update(await rest)
        return {name: results[name] for name in grouped if name in results}

    async def _gathered(self, results: dict[str, Any], awaiting: list[str],
                        grouped: GroupedFieldSet) -> dict[str, Any]:
        awaited = await gather_with_cancel(*(results[name] for name in awaiting))
        for name, value in zip(awaiting, awaited, strict=True):
            if name == "":  # the ordinary path's share
                del results[""]
                results.update(value)
            else:
                results[name] = value
        return {name: results[name] for name in grouped if name in results}

    # -- objects and lists of objects ------------------------------------------------

    def _complete_plain(
        self, step: Step, parent_type: GraphQLObjectType, source: Any, path: Path, position_context: Any
    ) -> Any:
        """The completed value of an OBJECT or LIST step, or Undefined to take the
        ordinary path. Mirrors `execute_field` + `complete_value` for these types."""
        value = getattr(source, step.attr, Undefined)
        if value is None:
            return None if step.nullable else Undefined
        if value is Undefined or isinstance(value, Exception):
            return Undefined
        if step.kind == LIST and (not isinstance(value, list | tuple) or any(
            item is None or isinstance(item, Exception) or self.is_awaitable(item) for item in value
        )):
            return Undefined
        field_path = Path(path, step.name, parent_type.name)
        try:
            if step.kind == OBJECT:
                completed = self._subfields(step, field_path, value, position_context)
            else:
                completed = self._complete_items(step, value, field_path, position_context)
        except Exception as raw_error:  # noqa: BLE001 - as graphql-core's execute_field
            self.handle_field_error(raw_error, step.return_type, step.details, field_path)  # type: ignore[arg-type]
            return None
        if self.is_awaitable(completed):
            return self._await_field(completed, step.return_type, step.details, field_path)  # type: ignore[arg-type]
        return completed

    def _complete_items(self, step: Step, items: list[Any] | tuple[Any, ...], path: Path, position_context: Any) -> Any:
        details, item_type = step.details, step.item_type
        completed: list[Any] = []
        awaiting: list[int] = []
        flat = self._flat_completer(step) if position_context is None else None
        try:
            for index, item in enumerate(items):
                if flat is not None and (done := flat(item)) is not None:
                    completed.append(done)
                    continue
                item_path = path.add_key(index, None)
                try:
                    value = self._subfields(step, item_path, item, position_context)
                except Exception as raw_error:  # noqa: BLE001 - as graphql-core's complete_list_item_value
                    self.handle_field_error(raw_error, item_type, details, item_path)  # type: ignore[arg-type]
                    value = None
                if self.is_awaitable(value):
                    value = self._await_field(value, item_type, details, item_path)  # type: ignore[arg-type]
                    awaiting.append(index)
                completed.append(value)
        except Exception:
            if awaiting:
                self.settle_in_background([completed[i] for i in awaiting])
            raise
        if not awaiting:
            return completed
        return self._gathered_items(completed, awaiting)

    # -- flat selections -----------------------------------------------------------

    def _flat_completer(self, step: Step) -> Completer | None:
        """For objects whose selection holds only leaves, __typename and objects of the
        same kind (an edge and its node's fields), a function completing one object
        without paths or awaitables; it answers None when anything is unusual (a null
        where the schema says non-null, a value that does not coerce), and the object is
        then completed the ordinary way, which reports it. None when the selection is not
        flat (a resolver, a list, @defer)."""
        grouped, new_defer_usages, _ = self.collect_subfields(step.object_type, step.details)  # type: ignore[arg-type]
        if new_defer_usages:
            return None
        key = id(grouped)
        known = self._flat.get(key)
        if known is None or known[0] is not grouped:
            known = self._flat[key] = (grouped, self._build_flat(step.object_type, grouped))  # type: ignore[arg-type]
        return known[1]

    def _build_flat(self, object_type: GraphQLObjectType, grouped: GroupedFieldSet) -> Completer | None:
        fields: list[FlatField] = []
        for step in self._plan(object_type, grouped):
            if step.kind == OBJECT:
                inner = self._flat_completer(step)
                if inner is None:
                    return None
                fields.append(FlatField(step.name, step.attr, flat.NESTED, nullable=step.nullable, inner=inner))
            elif step.kind == TYPENAME:
                fields.append(FlatField(step.name, "", flat.TYPENAME))
            elif step.kind == LEAF:
                fields.append(FlatField(step.name, step.attr, flat.STRING if step.shown is str else flat.LEAF,
                                        nullable=step.nullable, shown=step.shown, coerce=step.coerce))
            else:
                return None
        return flat.flat_completer(object_type, fields, self.is_awaitable)

    def _subfields(self, step: Step, path: Path, value: Any, position_context: Any) -> Any:
        """`collect_and_execute_subfields` for an object of `step`; without @defer (no
        new deferred fragments, no delivery groups) it is `execute_fields` on the
        memoised sub-selection, which is called directly."""
        grouped, new_defer_usages, _ = self.collect_subfields(step.object_type, step.details)  # type: ignore[arg-type]
        if new_defer_usages or position_context is not None:
            return self.collect_and_execute_subfields(
                step.object_type, step.details, path, value, position_context  # type: ignore[arg-type]
            )
        return self.execute_fields(step.object_type, value, path, grouped, None)  # type: ignore[arg-type]

    async def _gathered_items(self, completed: list[Any], awaiting: list[int]) -> list[Any]:
        awaited = await gather_with_cancel(*(completed[i] for i in awaiting))
        for index, value in zip(awaiting, awaited, strict=True):
            completed[index] = value
        return completed

    async def _await_field(self, completed: Awaitable[Any], return_type: GraphQLOutputType,
                           details: FieldDetailsList, path: Path) -> Any:
        try:
            return await completed
        except Exception as raw_error:  # noqa: BLE001 - as graphql-core's await_completed
            self.handle_field_error(raw_error, return_type, details, path)
            return None
