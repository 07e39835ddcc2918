"""Completing a flat selection with a function written for it.

A flat selection holds only leaves, `__typename` and plain objects that are flat in
turn (an edge and its node's fields; see `schema.execution`). Completing one object of
it is reading each attribute, checking it and putting it under its response key. A
loop over a description of the fields pays, for every field of every object, for
unpacking the description and branching on its kind; for a 1,000-row listing that was
most of the completion. Here the loop is unrolled once per selection into Python source
(`source.nik`, a class check, the dict literal of the answer), compiled, and kept for
the schema's life, so later requests with the same selection reuse the function.

The function answers exactly what the loop answered: the completed dict, or None when
anything is unusual (a null where the schema says non-null, a value that does not
coerce, a missing attribute, an exception or awaitable where an object belongs), and
the caller then completes the object the ordinary way, which reports the problem.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from graphql import GraphQLObjectType
from graphql.pyutils import Undefined

#: how a flat completer handles one response key
TYPENAME, STRING, LEAF, NESTED = range(4)

Completer = Callable[[Any], dict[str, Any] | None]


class FlatField:
    """One response key of a flat selection: its attribute, how it completes (one of
    the codes above), whether null is allowed, the leaf's serialisation (`shown`: a
    table of enum names, or `str` for strings shown as they are; `coerce`), and for a
    nested object the completer of its selection."""

    __slots__ = ("attr", "coerce", "how", "inner", "name", "nullable", "shown")

    def __init__(self, name: str, attr: str, how: int, *, nullable: bool = True, shown: Any = None,
                 coerce: Callable[[Any], Any] | None = None, inner: Completer | None = None) -> None:
        self.name, self.attr, self.how, self.nullable = name, attr, how, nullable
        self.shown, self.coerce, self.inner = shown, coerce, inner


def leaf_value(shown: Any, coerce: Callable[[Any], Any], value: Any) -> Any:
    """A leaf's output value, or Undefined when the ordinary path must report a problem
    (the value cannot be coerced, or coerces to null: `complete_leaf_value` refuses it)."""
    try:
        if shown.__class__ is dict and (name := shown.get(value)) is not None:
            return name
        coerced = coerce(value)
    except Exception:  # noqa: BLE001 - the ordinary path reports it properly
        return Undefined
    return Undefined if coerced is None else coerced


#: object type -> (is_awaitable, per field: response key, attribute, inner completer) ->
#: the compiled completer; the attribute names the field, and the field fixes the rest
_COMPILED: WeakKeyDictionary[GraphQLObjectType, dict[tuple[Any, ...], Completer]] = WeakKeyDictionary()
_PER_TYPE = 256  # distinct selections kept per type (a bound, not a working set)


def flat_completer(object_type: GraphQLObjectType, fields: list[FlatField],
                   is_awaitable: Callable[[Any], bool]) -> Completer | None:
    """The completer of one object of `object_type` with this selection; None when an
    attribute is not a plain identifier (the caller then keeps the general path)."""
    key = (is_awaitable, tuple((f.name, f.attr, f.inner) for f in fields))
    known = _COMPILED.get(object_type)
    if known is None:
        known = _COMPILED[object_type] = {}
    found = known.get(key)
    if found is None:
        if any(f.how != TYPENAME and (not f.attr.isidentifier() or keyword.iskeyword(f.attr)) for f in fields):
            return None
        if len(known) >= _PER_TYPE:
            known.clear()
        found = known[key] = _compile(object_type.name, fields, is_awaitable)
    return found


def _compile(typename: str, fields: list[FlatField], is_awaitable: Callable[[Any], bool]) -> Completer:
    names: dict[str, Any] = {"Undefined": Undefined, "leaf_value": leaf_value, "is_awaitable": is_awaitable}
    body: list[str] = []
    for i, field in enumerate(fields):
        v = f"v{i}"
        if field.how == TYPENAME:
            names[f"typename{i}"] = typename
            body.append(f"{v} = typename{i}")
            continue
        names[f"shown{i}"], names[f"coerce{i}"], names[f"inner{i}"] = field.shown, field.coerce, field.inner
        on_null = "pass" if field.nullable else "return None"
        body.append(f"{v} = source.{field.attr}")
        if field.how == STRING:  # the common case first: a string is its own answer
            body += [f"if {v}.__class__ is not str:",
                     f"    if {v} is None:", f"        {on_null}",
                     f"    elif {v} is Undefined:", "        return None",
                     "    else:",
                     f"        {v} = leaf_value(shown{i}, coerce{i}, {v})",
                     f"        if {v} is Undefined:", "            return None"]
        elif field.how == LEAF:
            body += [f"if {v} is None:", f"    {on_null}",
                     f"elif {v} is Undefined:", "    return None",
                     "else:",
                     f"    {v} = leaf_value(shown{i}, coerce{i}, {v})",
                     f"    if {v} is Undefined:", "        return None"]
        else:  # NESTED
            body += [f"if {v} is None:", f"    {on_null}",
                     f"elif {v} is Undefined or isinstance({v}, Exception) or is_awaitable({v}):",
                     "    return None",
                     "else:",
                     f"    {v} = inner{i}({v})",
                     f"    if {v} is None:", "        return None"]
    answer = ", ".join(f"{field.name!r}: v{i}" for i, field in enumerate(fields))
    source = "\n".join([
        "def complete(source):",
        "    try:",
        *(f"        {line}" for line in body),
        "    except AttributeError:",  # a missing attribute: the ordinary path reports it
        "        return None",
        f"    return {{{answer}}}",
    ])
    exec(compile(source, f"<flat completer of {typename}>", "exec"), names)  # noqa: S102 - our own source
    return names["complete"]  # type: ignore[no-any-return]
