"""The `hub operations` commands (parsed in hub.operations_cli): persisted operations in
the hub store.

    hub operations push CLIENT FILE [--role R ...] [--replace]
        FILE: an Apollo persisted-query manifest or a Relay `{id: text}` file
        (hub.persisted.manifest). Who may run CLIENT's operations: a service account
        with its own roles together (`hub client add`), else a holder of any one of
        the `--role`s given (an app whose users sign in, or `anonymous` for the
        public). Every operation is checked against the schema and limits of each of
        those role sets, as a request would be;
        one problem fails the whole push (exit 1, each problem listed) and stores
        nothing.
    hub operations list [--client CLIENT]
    hub operations remove CLIENT (ID ... | --all)
    hub operations check [--schema SDL] [--client CLIENT]
        every pushed operation against a new schema (an SDL file, e.g. from `hub
        schema --role R` of the next release), or, without `--schema`, against the
        current policy's schema of each role it was pushed for; exit 1 on any problem.

Exit codes: 0 done, 1 an operation is invalid (push, check), 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from graphql import GraphQLError, GraphQLSyntaxError, build_schema

from auth.clients import get_client
from auth.policy import Policy
from hub.migrations import prepare_store
from hub.persisted.checks import Problem, Target, check_operations
from hub.persisted.manifest import CLIENT_NAME, ManifestError, ManifestOperation, read_manifest
from hub.persisted.operations import (
    OperationConflict,
    StoredOperation,
    list_operations,
    push_operations,
    remove_operations,
)
from hub.schemas import SchemaSet, load_access
from hub.settings import ConfigError, Settings
from hub.store import create_store_engine, write_transaction
from schema.build import shape_limits


def role_targets(
    policy: Policy, role_sets: Iterable[Iterable[str]], schemas: SchemaSet | None = None
) -> list[Target]:
    """Each role set's schema and document limits, as the hub serves a holder of it."""
    schemas = schemas or SchemaSet(policy)
    targets = []
    for role_set in sorted({tuple(sorted(set(s))) for s in role_sets}):
        roles = frozenset(role_set)
        label = ("role " if len(roles) == 1 else "roles ") + "+".join(role_set)
        targets.append(Target(label, schemas.for_roles(roles)._schema, shape_limits(policy.limits(roles))))
    return targets


def sdl_target(path: Path) -> Target:
    """A schema from an SDL file (no document limits: those are the policy's)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the schema {path}: {exc.strerror or exc}") from exc
    try:
        return Target(str(path), build_schema(text))
    except (GraphQLSyntaxError, GraphQLError, TypeError) as exc:
        raise ConfigError(f"{path} is not a GraphQL schema (SDL): {exc}") from exc


async def _runs_as(conn: object, policy: Policy, client: str, given: list[str]) -> list[list[str]]:
    """The role sets that run `client`'s operations: a service account's roles together,
    else each `--role` alone."""
    account = await get_client(conn, client)  # type: ignore[arg-type]
    if account is not None:
        if account.revoked:
            raise ConfigError(f"service client {client!r} is revoked")
        if given and set(given) != set(account.roles):
            raise ConfigError(f"{client!r} is a service account: its operations run with its roles "
                              f"({', '.join(sorted(account.roles))}), not --role")
        return [sorted(account.roles)]
    if not given:
        raise ConfigError(f"{client!r} is not a service account (hub client add): say which roles "
                          "run its operations with --role (repeatable; `anonymous` for the public)")
    unknown = [r for r in given if r not in policy.roles]
    if unknown:
        raise ConfigError(f"unknown role(s) {', '.join(map(repr, unknown))}; the policy ({policy.source}) "
                          f"knows: {', '.join(sorted(policy.roles))}")
    return [[role] for role in sorted(set(given))]


def _print_problems(problems: list[Problem], what: str) -> None:
    print(f"{what}: {len(problems)} problem(s):", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)


def _read(path: Path) -> list[ManifestOperation]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return read_manifest(raw)
    except ManifestError as exc:
        raise ConfigError(f"{path}: " + "; ".join(exc.problems[:20])) from exc


def _client(name: str) -> str:
    if not CLIENT_NAME.fullmatch(name):
        raise ConfigError(f"client name must be 1-64 letters, digits, '.', '_' or '-', got {name!r}")
    return name


async def run_operations_command(settings: Settings, args: argparse.Namespace) -> int:
    command = args.operations_command
    policy = load_access(settings)[0] if command in ("push", "check") else None
    operations = _read(args.file) if command == "push" else []
    engine = create_store_engine(settings.resolved_store_url)
    try:
        await prepare_store(engine, settings.store_migrations)  # or refused, as the setting says
        if command == "push":
            assert policy is not None
            return await _push(engine, policy, _client(args.client), operations, args.roles, args.replace)
        if command == "list":
            async with engine.connect() as conn:
                stored = await list_operations(conn, args.client)
            for op in stored:
                print(f"{op.client}\t{op.id}\t{op.operation.type}\t{op.operation.name or '-'}"
                      f"\troles={op.runs_as_text}\t{op.pushed_at:%Y-%m-%dT%H:%M:%SZ}")
            return 0
        if command == "remove":
            if bool(args.ids) == args.all:
                raise ConfigError("name the operation ids to remove, or --all (not both)")
            async with write_transaction(engine) as conn:
                removed = await remove_operations(conn, _client(args.client), None if args.all else args.ids)
            print(f"removed {removed} operation(s) of {args.client}; running hubs stop serving them within "
                  f"{settings.persisted_queries.operation_cache_seconds:g} s")
            return 0 if removed or args.all else 1
        assert policy is not None
        async with engine.connect() as conn:
            stored = await list_operations(conn, args.client)
        return _check(policy, stored, args.schema)
    finally:
        await engine.dispose()


async def _push(engine: object, policy: Policy, client: str, operations: list[ManifestOperation],
                given_roles: list[str], replace: bool) -> int:
    async with write_transaction(engine) as conn:  # type: ignore[arg-type]
        runs_as = await _runs_as(conn, policy, client, given_roles)
        targets = role_targets(policy, runs_as)
        problems = check_operations(operations, {op.id: targets for op in operations})
        labels = ", ".join(t.label for t in targets)
        if problems:
            _print_problems(problems, f"push refused, nothing stored ({client}, for {labels})")
            return 1
        try:
            result = await push_operations(conn, client, operations, runs_as=runs_as, replace=replace)
        except OperationConflict as exc:
            raise ConfigError(str(exc)) from exc
    print(f"{client}: {len(operations)} operation(s) valid for {labels}; "
          f"{result.added} added, {result.unchanged} already there"
          + (f", {result.removed} removed" if replace else ""))
    return 0


def _check(policy: Policy, stored: list[StoredOperation], schema_file: Path | None) -> int:
    if schema_file is not None:
        target = sdl_target(schema_file)
        targets = {(op.client, op.id): [target] for op in stored}
    else:
        schemas = SchemaSet(policy)
        known = [s for s in {s for op in stored for s in op.runs_as} if s <= policy.roles]
        by_set = dict(zip(sorted(known, key=sorted), role_targets(policy, sorted(known, key=sorted), schemas),
                          strict=True))
        targets = {(op.client, op.id): [by_set[s] for s in op.runs_as if s in by_set] for op in stored}
    problems: list[Problem] = []
    for op in stored:
        gone = [] if schema_file is not None else sorted(r for s in op.runs_as for r in s if r not in policy.roles)
        problems += [Problem(f"{op.client}/{op.id}", op.operation.name, f"role {r}",
                             "the policy no longer has this role") for r in gone]
        problems += [Problem(f"{op.client}/{p.operation_id}", p.operation_name, p.target, p.message)
                     for p in check_operations([op.operation], {op.id: targets[(op.client, op.id)]})]
    against = str(schema_file) if schema_file is not None else "the current schema of each role"
    if problems:
        _print_problems(problems, f"{len(stored)} operation(s) checked against {against}")
        return 1
    print(f"{len(stored)} operation(s) valid against {against}")
    return 0


__all__ = ["role_targets", "run_operations_command", "sdl_target"]
