"""`hub operations push|list|remove|check`: the command line (the commands themselves
are hub.persisted.commands, imported when one runs)."""

from __future__ import annotations

import argparse
from pathlib import Path

from hub.cli_help import roles_help


def add_operations_parser(sub: argparse._SubParsersAction, common, run) -> None:  # type: ignore[type-arg,no-untyped-def]
    """`hub operations ...` (registered by hub.cli; `common` adds --config/--data-dir)."""
    operations = sub.add_parser("operations", help="persisted operations: push, list, remove, check")
    op_sub = operations.add_subparsers(dest="operations_command", required=True)
    push = op_sub.add_parser("push", help="register a client's operations from an Apollo or Relay manifest")
    common(push)
    push.add_argument("client", help="a service client id (hub client add), or an app's name with --role")
    push.add_argument("file", type=Path, help="the manifest (JSON)")
    push.add_argument("--role", action="append", default=[], dest="roles",
                      help=roles_help("a role that runs the client's operations (repeatable; not for service "
                                      "accounts)"))
    push.add_argument("--replace", action="store_true", help="remove the client's operations not in FILE")
    push.set_defaults(func=run)
    listing = op_sub.add_parser("list", help="list pushed operations")
    common(listing)
    listing.add_argument("--client", default=None, help="only this client's operations")
    listing.set_defaults(func=run)
    remove = op_sub.add_parser("remove", help="remove a client's operations")
    common(remove)
    remove.add_argument("client", help="the client whose operations to remove")
    remove.add_argument("ids", nargs="*", metavar="ID", help="the operations' ids (see `hub operations list`)")
    remove.add_argument("--all", action="store_true", help="every operation of the client")
    remove.set_defaults(func=run)
    check = op_sub.add_parser("check", help="check pushed operations against a new schema; exit 1 on a problem")
    common(check)
    check.add_argument("--schema", type=Path, default=None, help="an SDL file (default: the current schemas)")
    check.add_argument("--client", default=None, help="only this client's operations")
    check.set_defaults(func=run)


__all__ = ["add_operations_parser"]
