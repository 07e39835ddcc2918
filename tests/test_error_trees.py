"""Each package draws its whole error tree in one module docstring, and every error in
it carries a code from the public list or a documented extra.

The classes are found by importing every module of the package and walking the
subclasses of its base, so a new error class without a place in the drawn tree fails
here."""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

import pytest

import auth
import auth.errors
import connectors
import connectors.errors
import schema
import schema.errors

#: the codes of DESIGN.md's public contract
PUBLIC_CODES = {
    "UNAUTHENTICATED", "FORBIDDEN", "PURPOSE_REQUIRED", "BAD_USER_INPUT", "NOT_FOUND",
    "SOURCE_UNAVAILABLE", "QUERY_TOO_COMPLEX", "RATE_LIMITED", "INTERNAL",
}
#: documented extras (README): a hub whose identity provider is down; an access ledger
#: that cannot be written (personal data is then not sent); a policy file that stops the
#: start (never shown to a client)
EXTRA_CODES = {"IDENTITY_UNAVAILABLE", "LEDGER_UNAVAILABLE", "POLICY_INVALID"}

TREES = [
    pytest.param(auth, auth.errors, auth.errors.AuthPackageError, id="auth"),
    pytest.param(connectors, connectors.errors, connectors.errors.ConnectorPackageError, id="connectors"),
    pytest.param(schema, schema.errors, schema.errors.HubError, id="schema"),
]


def _import_all(package: ModuleType) -> None:
    for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        importlib.import_module(info.name)


def _tree(package: ModuleType, base: type[Exception]) -> set[type[Exception]]:
    _import_all(package)
    found: set[type[Exception]] = set()
    todo = [base]
    while todo:
        cls = todo.pop()
        if cls.__module__.split(".")[0] != package.__name__ or cls in found:
            continue
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return found


def _drawn_names(module: ModuleType) -> set[str]:
    """The class names on the lines of the tree drawing (indented, optionally after
    box-drawing characters)."""
    drawing = re.compile(r"^ {4}[ │├└─]*([A-Z][A-Za-z]+)\b")
    return {m.group(1) for line in (module.__doc__ or "").splitlines() if (m := drawing.match(line))}


@pytest.mark.parametrize(("package", "module", "base"), TREES)
def test_every_error_class_of_the_package_is_drawn_in_its_errors_module(
    package: ModuleType, module: ModuleType, base: type[Exception]
) -> None:
    classes = {cls.__name__ for cls in _tree(package, base) if not cls.__name__.startswith("_")}
    assert classes - _drawn_names(module) == set()


@pytest.mark.parametrize(("package", "module", "base"), TREES)
def test_every_drawn_class_exists(package: ModuleType, module: ModuleType, base: type[Exception]) -> None:
    classes = {cls.__name__ for cls in _tree(package, base)}
    assert _drawn_names(module) - classes == set()


@pytest.mark.parametrize(("package", "module", "base"), TREES)
def test_every_error_class_carries_a_public_or_documented_code(
    package: ModuleType, module: ModuleType, base: type[Exception]
) -> None:
    codes = {cls.__name__: cls.code for cls in _tree(package, base)}  # type: ignore[attr-defined]
    assert {name: code for name, code in codes.items() if code not in PUBLIC_CODES | EXTRA_CODES} == {}


@pytest.mark.parametrize(("package", "module", "base"), TREES)
def test_every_error_class_carries_a_safe_message_and_details(
    package: ModuleType, module: ModuleType, base: type[Exception]
) -> None:
    error = base("something went wrong")
    assert (error.message, error.details) == ("something went wrong", {})  # type: ignore[attr-defined]


def test_each_package_has_one_error_base_and_errors_outside_it_carry_no_code() -> None:
    """An exception class with a `code` that is not in a drawn tree would bypass the one
    mapping (schema.errors.error_extensions) and be answered as INTERNAL."""
    bases = tuple(p.values[2] for p in TREES)
    stray = []
    for package in (auth, connectors, schema):
        _import_all(package)
        for module_name, module in list(importlib.sys.modules.items()):
            if module_name.split(".")[0] != package.__name__:
                continue
            for value in vars(module).values():
                if (isinstance(value, type) and issubclass(value, Exception)
                        and value.__module__ == module_name and "code" in vars(value)
                        and not issubclass(value, bases)):
                    stray.append(f"{module_name}.{value.__name__}")
    assert stray == []
