"""`hub schema diff OLD [NEW] [--role R] [--json]`: what a schema change breaks.

OLD and NEW are SDL files (`hub schema --role R > file` of each release); without NEW
the current build is compared: the schema a role sees with `--role R`, else the full
schema. Changes are graphql-core's (`find_breaking_changes`, `find_dangerous_changes`):

    breaking    a client's valid operation may now fail: a type or field removed, a
                field's type changed incompatibly, a required argument or input field
                added, an enum value removed, ...
    dangerous   operations still validate but may behave differently: an enum value or
                union member added, an argument's default changed, an optional argument
                added, ...

Exit 0 when nothing breaks (dangerous changes are listed), 1 when something does, 2
when a file is missing or not a schema, so that a CI step can run it.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING


if TYPE_CHECKING:  # graphql is imported when the command runs: `hub` starts faster
    from graphql import BreakingChange, DangerousChange, GraphQLSchema


def read_schema(path: Path) -> GraphQLSchema:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        from hub.settings import ConfigError  # here: `hub` builds its parser from this module, lightly

        raise ConfigError(f"cannot read the schema {path}: {exc.strerror or exc}") from exc
    return parse_schema(text, str(path))


def parse_schema(text: str, name: str) -> GraphQLSchema:
    from graphql import GraphQLError, GraphQLSyntaxError, build_schema

    try:
        return build_schema(text)
    except (GraphQLSyntaxError, GraphQLError, TypeError) as exc:
        from hub.settings import ConfigError

        raise ConfigError(f"{name} is not a GraphQL schema (SDL): {exc}") from exc


def schema_changes(old: GraphQLSchema, new: GraphQLSchema) -> tuple[list[BreakingChange], list[DangerousChange]]:
    """The breaking and the dangerous changes from `old` to `new`, each sorted."""
    from graphql import find_breaking_changes, find_dangerous_changes

    breaking = sorted(find_breaking_changes(old, new), key=lambda c: (c.type.name, c.description))
    dangerous = sorted(find_dangerous_changes(old, new), key=lambda c: (c.type.name, c.description))
    return breaking, dangerous


def run_schema_diff(args: argparse.Namespace, current_sdl: Callable[[str | None], str]) -> int:
    """`current_sdl(role)` gives the current build's SDL when NEW is not given."""
    old = read_schema(args.old)
    if args.new is not None:
        new, new_name = read_schema(args.new), str(args.new)
    else:
        new_name = f"the current schema of role {args.role}" if args.role else "the current full schema"
        new = parse_schema(current_sdl(args.role), new_name)
    breaking, dangerous = schema_changes(old, new)
    if args.json:
        print(json.dumps({
            "old": str(args.old),
            "new": new_name,
            "breaking": [{"type": c.type.name, "description": c.description} for c in breaking],
            "dangerous": [{"type": c.type.name, "description": c.description} for c in dangerous],
        }, indent=2))
    else:
        for label, changes in (("BREAKING", breaking), ("DANGEROUS", dangerous)):
            for change in changes:
                print(f"{label:9}  {change.type.name:32}  {change.description}")
        print(f"{len(breaking)} breaking, {len(dangerous)} dangerous change(s) from {args.old} to {new_name}")
    return 1 if breaking else 0


def add_diff_parser(schema_parser: argparse.ArgumentParser, common, run) -> None:  # type: ignore[no-untyped-def]
    """`hub schema diff ...` under `hub schema` (registered by hub.cli)."""
    sub = schema_parser.add_subparsers(dest="schema_command", required=False)
    diff = sub.add_parser("diff", help="list breaking and dangerous changes; exit 1 on breaking ones")
    common(diff)
    diff.add_argument("old", type=Path, help="the SDL before (a file)")
    diff.add_argument("new", type=Path, nargs="?", default=None,
                      help="the SDL after (a file; default: the current build, see --role)")
    diff.add_argument("--role", default=None, help="without NEW: compare with the schema this role sees now")
    diff.add_argument("--json", action="store_true", help="print the changes as JSON")
    diff.set_defaults(func=run)


__all__ = ["add_diff_parser", "parse_schema", "read_schema", "run_schema_diff", "schema_changes"]
