"""The fast executor runs only where it was tested and only where it skips nothing: other
releases of graphql-core or strawberry fall back to the standard execution with one
warning; a schema feature wrapping every field refuses the build; a field's own
features (permission classes, field extensions, a default resolver, a field class of
its own, directives, is_type_of) take the ordinary path, where they run."""

from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import strawberry
from graphql import DirectiveLocation
from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.permission import BasePermission
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema_directive import Location
from strawberry.types.field import StrawberryField

from schema import fast_path
from schema.build import build_schema
from schema.execution import ORDINARY, FastPlainExecutionContext, _classify
from schema.fast_path import TESTED, FastPathRefused, use_fast_path

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


@pytest.fixture
def fresh_verdict() -> Any:
    fast_path.fast_path_supported.cache_clear()
    yield
    fast_path.fast_path_supported.cache_clear()


def test_the_installed_releases_are_the_tested_ones_and_run_the_fast_path(fresh_verdict: Any) -> None:
    assert fast_path.untested_releases() == []
    assert build_schema().execution_context_class is FastPlainExecutionContext


def test_pyproject_pins_the_tested_minor_releases() -> None:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    for distribution, minor in TESTED.items():
        major, number = minor.split(".")
        [pin] = [d for d in dependencies if re.match(rf"{distribution}\b", d)]
        assert pin.replace(" ", "") == f"{distribution}>={minor},<{major}.{int(number) + 1}"


@pytest.mark.parametrize("distribution, faked", [
    pytest.param("graphql-core", "3.4.0", id="graphql-core-3.4"),
    pytest.param("strawberry-graphql", "0.342.0", id="strawberry-0.342"),
])
def test_other_releases_fall_back_to_the_standard_execution_with_one_warning(
    distribution: str, faked: str, fresh_verdict: Any, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    real = fast_path.metadata.version
    monkeypatch.setattr(fast_path.metadata, "version", lambda name: faked if name == distribution else real(name))
    with caplog.at_level(logging.WARNING, logger="schema.fast_path"):
        schemas = [build_schema(), build_schema(with_mutation=False)]

    assert all(s.execution_context_class is StrawberryGraphQLCoreExecutionContext for s in schemas)
    [warning] = [r for r in caplog.records if r.name == "schema.fast_path"]
    assert warning.levelno == logging.WARNING
    assert f"{distribution} {faked}" in warning.getMessage()


# -- a small schema with each feature ----------------------------------------------------

class Item:
    def __init__(self, name: str) -> None:
        self.name = name
        self.label = name


def _schema(query: type, **kwargs: Any) -> tuple[strawberry.Schema, strawberry.Schema]:
    """The same schema on the fast path and on the standard execution."""
    fast = strawberry.Schema(query=query, **kwargs)
    use_fast_path(fast)
    assert fast.execution_context_class is FastPlainExecutionContext
    return fast, strawberry.Schema(query=query, **kwargs)


async def _alike(schemas: tuple[strawberry.Schema, strawberry.Schema], query: str) -> Any:
    fast, standard = schemas
    answers = [await s.execute(query) for s in (fast, standard)]
    assert [(a.data, [(e.message, e.path) for e in a.errors or ()]) for a in answers][0] == \
        [(a.data, [(e.message, e.path) for e in a.errors or ()]) for a in answers][1]
    return answers[0]


class Everywhere(SchemaExtension):
    resolved: list[str] = []

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        Everywhere.resolved.append(info.field_name)
        return _next(root, info, *args, **kwargs)


@strawberry.type(name="Item")
class PlainItem:
    name: str


@strawberry.type
class PlainQuery:
    @strawberry.field
    def items(self) -> list[PlainItem]:
        return [PlainItem(name="a"), PlainItem(name="b")]  # type: ignore[call-arg]


@strawberry.directive(locations=[DirectiveLocation.FIELD])
def shout(value: str) -> str:
    return value.upper()


@pytest.mark.parametrize("kwargs", [
    pytest.param({"extensions": [Everywhere]}, id="resolve-extension-class"),
    pytest.param({"extensions": [lambda: Everywhere()]}, id="resolve-extension-factory"),
    pytest.param({"directives": [shout]}, id="custom-operation-directive"),
])
def test_a_schema_feature_wrapping_every_field_refuses_the_fast_path(kwargs: dict[str, Any]) -> None:
    schema = strawberry.Schema(query=PlainQuery, **kwargs)
    with pytest.raises(FastPathRefused, match="resolve-wrapping schema extensions"):
        use_fast_path(schema)


async def test_a_resolve_extension_added_after_the_build_runs_on_every_field() -> None:
    fast, _ = _schema(PlainQuery)
    fast.extensions = (*fast.extensions, Everywhere)
    Everywhere.resolved = []
    result = await fast.execute("{ items { name } }")
    assert result.data == {"items": [{"name": "a"}, {"name": "b"}]}
    assert Everywhere.resolved == ["items", "name", "name"]


class Deny(BasePermission):
    message = "not for you"
    asked = 0

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        Deny.asked += 1
        return False


class Shouting(FieldExtension):
    def resolve(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        return next_(source, info, **kwargs).upper()


class Labelled(StrawberryField):
    def get_result(self, source: Any, info: Any, args: Any, kwargs: Any) -> Any:
        return f"<{super().get_result(source, info, args, kwargs)}>"


@strawberry.schema_directive(locations=[Location.FIELD_DEFINITION, Location.OBJECT])
class Sensitive:
    reason: str


@strawberry.type(name="Item")
class FeaturedItem:
    name: str = strawberry.field(permission_classes=[Deny])
    label: str = strawberry.field(extensions=[Shouting()])


@strawberry.type
class FeaturedQuery:
    @strawberry.field
    def items(self) -> list[FeaturedItem]:
        return [Item("a"), Item("b")]  # type: ignore[list-item]


async def test_a_permission_class_on_a_plain_field_is_asked_on_the_fast_path() -> None:
    Deny.asked = 0
    result = await _alike(_schema(FeaturedQuery), "{ items { label } other: items { name } }")
    assert result.data is None or result.data.get("other") is None
    assert [e.message for e in result.errors] == ["not for you"]
    assert Deny.asked == 2  # once per path: fast, then standard


async def test_a_field_extension_on_a_plain_field_runs_on_the_fast_path() -> None:
    result = await _alike(_schema(FeaturedQuery), "{ items { label } }")
    assert result.data == {"items": [{"label": "A"}, {"label": "B"}]}


@strawberry.type(name="Item")
class OwnFieldItem:
    label: str = Labelled()


@strawberry.type
class OwnFieldQuery:
    @strawberry.field
    def items(self) -> list[OwnFieldItem]:
        return [Item("a")]  # type: ignore[list-item]


async def test_a_field_class_of_its_own_gets_the_value_on_the_fast_path() -> None:
    result = await _alike(_schema(OwnFieldQuery), "{ items { label } }")
    assert result.data == {"items": [{"label": "<a>"}]}


async def test_a_default_resolver_of_the_schema_gets_every_plain_value_on_the_fast_path() -> None:
    config = StrawberryConfig(default_resolver=lambda source, name: getattr(source, name).upper())
    result = await _alike(_schema(PlainQuery, config=config), "{ items { name } }")
    assert result.data == {"items": [{"name": "A"}, {"name": "B"}]}


@strawberry.type(name="Item", directives=[Sensitive(reason="type")])
class DirectedItem:
    name: str
    label: str = strawberry.field(directives=[Sensitive(reason="field")])


@strawberry.type(name="Other")
class OtherItem:
    label: str = strawberry.field(directives=[Sensitive(reason="field")])
    name: str


@strawberry.type
class DirectedQuery:
    @strawberry.field
    def items(self) -> list[DirectedItem]:
        return [Item("a")]  # type: ignore[list-item]

    @strawberry.field
    def others(self) -> list[OtherItem]:
        return [Item("b")]  # type: ignore[list-item]


async def test_a_field_or_type_carrying_a_schema_directive_takes_the_ordinary_path() -> None:
    fast, standard = _schema(DirectedQuery)
    await _alike((fast, standard), "{ items { name label } others { name label } }")
    types = fast._schema.type_map
    assert _classify(types["Item"], "name")[0] == ORDINARY  # its type carries a directive
    assert _classify(types["Other"], "label")[0] == ORDINARY
    assert _classify(types["Other"], "name")[0] != ORDINARY  # nothing on it: read directly


@strawberry.interface
class Named:
    name: str


@strawberry.type(name="Item")
class NamedItem(Named):
    pass


@strawberry.type
class Stranger:
    name: str


@strawberry.type
class InterfaceQuery:
    @strawberry.field
    def items(self) -> list[NamedItem]:
        return [NamedItem(name="a"), Stranger(name="b")]  # type: ignore[list-item]


async def test_an_object_with_an_is_type_of_check_is_checked_on_the_fast_path() -> None:
    result = await _alike(_schema(InterfaceQuery), "{ items { name } }")
    [error] = result.errors
    assert "Expected value of type 'Item'" in error.message and error.path == ["items", 1]
