"""The `hub` command: demo, serve, schema (and schema diff), token, client, operations, audit,
migrate, check, notifications (and bench, when installed)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from hub.cli_help import purposes_help, roles_help
from hub.operations_cli import add_operations_parser
from hub.schema_diff import add_diff_parser

if TYPE_CHECKING:
    from hub.settings import Settings

# Nothing heavy is imported here: `hub demo` says what it does from its first instant
# (the settings, the app and their libraries load while it shows its progress).
DEFAULT_RESIDENTS = 50_000  # hub.demo_run: enough for a month's public report (demo/VOLUMES.md)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path,
                        help="TOML configuration file (default: hub.toml in the data directory, which "
                             "`hub demo` writes, when it is there)")
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help="data directory (default: $XDG_DATA_HOME/simpul, or ~/.local/share/simpul)",
    )


def _settings(args: argparse.Namespace, **overrides: object) -> Settings:
    """Settings from --config, or else from the demo's configuration in the data directory."""
    from hub.cli_config import find_config
    from hub.settings import load_settings

    return load_settings(find_config(args.config, args.data_dir).path, data_dir=args.data_dir, **overrides)


def _secure_files(settings: Settings) -> None:
    """Tighten the data directory's permissions (see hub.private_files); say what could not be."""
    from hub.private_files import secure_hub_files

    for warning in secure_hub_files(settings):
        print(f"hub: warning: {warning}", file=sys.stderr, flush=True)


def cmd_demo(args: argparse.Namespace) -> int:
    from hub.demo_run import run_demo

    return run_demo(args)


def cmd_serve(args: argparse.Namespace) -> int:
    from hub import shutdown
    from hub.app import create_app
    from hub.cli_config import find_config
    from hub.log_format import configure_logging
    from hub.migrations.migrate_cli import ready_store
    from hub.workers import check_workers, serve_workers

    overrides = {"host": args.host, "port": args.port, "metrics_port": args.metrics_port,
                 "log_format": args.log_format, "freeze_heap_after_start": True}
    settings = _settings(args, **overrides)
    check_workers(settings, args.workers)
    configure_logging(settings.log_format, settings.log_level)
    _secure_files(settings)
    asyncio.run(ready_store(settings))  # migrated or refused here, with a message, not in the server
    if args.workers > 1:
        config = find_config(args.config, args.data_dir).path
        return serve_workers(settings, args.workers, config=config, data_dir=args.data_dir, overrides=overrides)
    shutdown.serve(create_app(settings), host=settings.host, port=settings.port,  # graceful on SIGTERM
                   log_level=settings.log_level)
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from hub.schemas import load_access, role_sdl
    from hub.settings import ConfigError

    settings = _settings(args)
    policy, _ = load_access(settings)
    if args.role is not None and args.role not in policy.roles:
        raise ConfigError(f"unknown role {args.role!r}; roles: {', '.join(sorted(policy.roles))}")
    print(role_sdl(policy, args.role, federation=settings.federation))
    return 0


def cmd_schema_diff(args: argparse.Namespace) -> int:
    from hub.schema_diff import run_schema_diff
    from hub.schemas import load_access, role_sdl
    from hub.settings import ConfigError

    def current_sdl(role: str | None) -> str:
        policy, _ = load_access(_settings(args))
        if role is not None and role not in policy.roles:
            raise ConfigError(f"unknown role {role!r}; roles: {', '.join(sorted(policy.roles))}")
        return role_sdl(policy, role)

    return run_schema_diff(args, current_sdl)


def cmd_operations(args: argparse.Namespace) -> int:
    from hub.persisted.commands import run_operations_command

    return asyncio.run(run_operations_command(_settings(args), args))


def cmd_token(args: argparse.Namespace) -> int:
    from hub.cli_config import find_config
    from hub.token_cli import run_token_command

    return run_token_command(_settings(args), find_config(args.config, args.data_dir), args)


def cmd_client(args: argparse.Namespace) -> int:
    from hub.clients_cli import run_client_command

    return asyncio.run(run_client_command(_settings(args), args))


def cmd_audit(args: argparse.Namespace) -> int:
    from hub.audit import run_audit_command

    return asyncio.run(run_audit_command(_settings(args), args))


def cmd_migrate(args: argparse.Namespace) -> int:
    from hub.migrations.migrate_cli import run_migrate_command

    return asyncio.run(run_migrate_command(_settings(args), args))


def cmd_check(args: argparse.Namespace) -> int:
    from hub.check import run_checks

    return asyncio.run(run_checks(lambda: _settings(args), timeout=args.timeout))


def cmd_notifications(args: argparse.Namespace) -> int:
    from hub.notifications.cli import run_notifications_command

    return asyncio.run(run_notifications_command(_settings(args), args))


def cmd_bench(args: argparse.Namespace, rest: list[str]) -> int:
    """`hub bench` lives in the benchmark package (`bench`, the `[bench]` extra), found
    here only when the command runs, so that the product never imports it."""
    try:
        from bench.cli import main as bench_main
    except ModuleNotFoundError as exc:
        print(f"hub bench: the benchmark is not installed (no module {exc.name!r}); "
              "install simpul[bench]: pip install 'simpul[bench]'", file=sys.stderr)
        return 2
    return bench_main(rest)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hub", description="Simpul data-integration hub")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the hub on sample data with the sample sources")
    _common(demo)
    demo.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    demo.add_argument("--port", type=int, default=8000, help="port of the hub (default 8000)")
    demo.add_argument("--residents", type=int, default=DEFAULT_RESIDENTS,
                      help=f"residents of the sample data, when it is generated (default {DEFAULT_RESIDENTS})")
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="run the hub from a configuration file")
    _common(serve)
    serve.add_argument("--host", default=None, help="address to listen on (setting host)")
    serve.add_argument("--port", type=int, default=None, help="port to listen on (setting port)")
    serve.add_argument("--metrics-port", type=int, default=None,
                       help="serve /metrics on this port only, not on --port (setting metrics_port)")
    serve.add_argument("--log-format", choices=["text", "json"], default=None,
                       help="log lines for people (text) or a log pipeline (json) (setting log_format)")
    serve.add_argument("--workers", type=int, default=1,
                       help="hub processes on the port, e.g. one per core (more than one needs the "
                            "store on PostgreSQL; see hub.workers)")
    serve.set_defaults(func=cmd_serve)

    schema = sub.add_parser("schema", help="print the SDL a role sees")
    _common(schema)
    schema.add_argument("--role", default=None, help=roles_help("the role whose SDL to print (default: every field)"))
    schema.set_defaults(func=cmd_schema)
    add_diff_parser(schema, _common, cmd_schema_diff)

    token = sub.add_parser("token", help="print a token from the development issuer")
    _common(token)
    token.add_argument("--role", action="append", required=True, dest="roles", metavar="ROLE",
                       help=roles_help("a role the token carries; repeat it for several roles"))
    token.add_argument("--sub", default=None, help="the token's subject (default: demo-ROLE)")
    token.add_argument("--nik", default=None,
                       help="the citizen's NIK (16 digits): required by roles whose rows are the caller's own")
    token.add_argument("--kelurahan", default=None,
                       help="a kelurahan code of the region (10 digits): required by roles whose rows are "
                            "one kelurahan's")
    token.add_argument("--department", default=None, help="the department claim (shown in the ledger)")
    token.add_argument("--ttl", type=int, default=3600, help="seconds (default 3600)")
    token.set_defaults(func=cmd_token)

    client = sub.add_parser("client", help="manage service accounts (client credentials)")
    client_sub = client.add_subparsers(dest="client_command", required=True)
    add = client_sub.add_parser("add", help="register a client; prints its id and secret once")
    _common(add)
    add.add_argument("--name", default="", help="a name to recognise the client by")
    add.add_argument("--role", action="append", required=True, dest="roles", metavar="ROLE",
                     help=roles_help("a role the client's tokens carry; repeat it for several roles"))
    add.add_argument("--scope", action="append", default=[], dest="scopes", metavar="SCOPE",
                     help="a scope the client's tokens carry (repeatable)")
    add.add_argument("--purpose", default=None,
                     help=purposes_help("the one purpose its tokens may use, open to one of its roles"))
    add.add_argument("--token-lifetime", type=int, default=300, help="seconds a token lives (default 300)")
    add.set_defaults(func=cmd_client)
    listing = client_sub.add_parser("list", help="list clients")
    _common(listing)
    listing.set_defaults(func=cmd_client)
    revoke = client_sub.add_parser("revoke", help="revoke a client")
    _common(revoke)
    revoke.add_argument("client_id", help="the client's id (see `hub client list`)")
    revoke.set_defaults(func=cmd_client)

    add_operations_parser(sub, _common, cmd_operations)

    audit = sub.add_parser("audit", help="the access ledger")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    check = audit_sub.add_parser(
        "verify", help="walk the hash chain and hold it to the signed head checkpoints; exit 1 if either fails"
    )
    _common(check)
    check.add_argument("--json", action="store_true", help="print the result as JSON")
    check.add_argument("--checkpoints", type=Path, default=None,
                       help="the head checkpoint file (default: the configured one)")
    check.add_argument("--checkpoint", action="append", default=[], metavar="URL|FILE|JSON",
                       help="also check a checkpoint kept elsewhere, e.g. a saved copy of "
                            "/.well-known/ledger-checkpoint (repeatable)")
    check.add_argument("--jwks", default=None, metavar="URL|FILE",
                       help="verify checkpoint signatures with this key set (default: the hub issuer's keys)")
    check.set_defaults(func=cmd_audit)
    retention = audit_sub.add_parser("prune", help="remove entries older than N days, leaving a signed checkpoint")
    _common(retention)
    retention.add_argument("--days", type=int, required=True, help="remove entries older than this many days")
    retention.set_defaults(func=cmd_audit)

    migrate = sub.add_parser("migrate", help="migrate the hub store to this release's schema (Alembic)")
    _common(migrate)
    migrate.add_argument("--status", action="store_true",
                         help="print the current and head revisions; exit 0 current, 1 behind, 2 ahead")
    migrate.set_defaults(func=cmd_migrate)

    check = sub.add_parser("check", help="check configuration, policy, keys, store, sources and Redis "
                                         "(exit codes: see hub.check)")
    _common(check)
    check.add_argument("--timeout", type=float, default=5.0, help="seconds per network check (default 5)")
    check.set_defaults(func=cmd_check)

    notifications = sub.add_parser("notifications", help="the notification outbox: counts by state, newest messages")
    _common(notifications)
    notifications.add_argument("--state", choices=["pending", "delivered", "failed"], default=None,
                               help="only notifications in this delivery state (default: all)")
    notifications.add_argument("--limit", type=int, default=20, help="how many of the newest messages to list (default 20)")
    notifications.add_argument("--json", action="store_true", help="print the result as JSON")
    notifications.set_defaults(func=cmd_notifications)

    # its arguments are the benchmark's own (`bench.cli`), `--help` included
    bench = sub.add_parser("bench", add_help=False,
                           help="measure the hub against the sample sources (needs simpul[bench])")
    bench.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    try:
        if args.func is cmd_bench:
            return cmd_bench(args, rest)
        if rest:
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from hub.settings import ConfigError

        if not isinstance(exc, ConfigError):
            raise
        print(f"hub: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
