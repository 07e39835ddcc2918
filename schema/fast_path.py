"""Whether a schema runs on the fast executor (`schema.execution`), decided at start-up.

The fast executor overrides internals of graphql-core's execution (`execute_fields`,
`collect_subfields`, `handle_field_error`) and reads what strawberry's schema converter
puts on each field, none of which is a public, stable API. So:

- it is enabled only on the releases it was tested with (`TESTED`, the same minors
  `pyproject.toml` pins); on any other, the schema keeps graphql-core's standard
  execution and one warning is logged;
- a schema with a feature that wraps the resolution of every field is refused: a
  schema extension implementing `resolve` (graphql-core middleware) or custom
  operation directives (strawberry runs them as such an extension). The fast path
  reads plain fields without calling any resolver, so it would skip them; a schema
  with such a feature must be built with `fast_path=False`.

Features of one field (a resolver, arguments, permission classes, field extensions, a
custom default resolver, directives on the field or its type, an `is_type_of` check,
interfaces and unions) make that field take graphql-core's ordinary path
(`schema.execution._classify`), where they run as usual.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib import metadata

import strawberry

from schema.execution import FastPlainExecutionContext

log = logging.getLogger(__name__)

#: distribution -> the minor release the fast executor was tested with
TESTED = {"graphql-core": "3.3", "strawberry-graphql": "0.341"}


class FastPathRefused(ValueError):
    """A schema asked for the fast executor has a feature the fast executor would skip."""


def untested_releases() -> list[str]:
    """The installed releases of graphql-core and strawberry other than the tested minors."""
    untested = []
    for distribution, minor in TESTED.items():
        installed = metadata.version(distribution)
        if installed.split(".")[:2] != minor.split("."):
            untested.append(f"{distribution} {installed} (tested: {minor}.x)")
    return untested


@cache
def fast_path_supported() -> bool:
    """Whether the installed releases are the tested ones; logs once when not."""
    untested = untested_releases()
    if untested:
        log.warning("the fast executor is off: it was not tested with %s; the schemas use "
                    "graphql-core's standard execution", ", ".join(untested))
    return not untested


def use_fast_path(schema: strawberry.Schema) -> None:
    """Run `schema` on the fast executor when the installed releases are the tested
    ones; raises `FastPathRefused` when the schema has a feature the fast path skips."""
    wrapping = [type(ext).__name__ for ext in schema.get_extensions() if ext._implements_resolve()]
    if wrapping:
        raise FastPathRefused(
            f"the fast executor does not call resolve-wrapping schema extensions ({', '.join(wrapping)}; "
            "custom directives run as one): build this schema without the fast path"
        )
    if fast_path_supported():
        schema.execution_context_class = FastPlainExecutionContext
