"""Command line of a sample service: `python -m demo.<service> --db URL --api-key KEY ...`.

Binds the socket itself (port 0 picks a free one), serves with uvicorn and prints
`ready http://HOST:PORT` on stdout once it accepts connections. With `--webhook-url`
and `--webhook-secret` it pushes: a signed webhook after each change
(demo.service_common.push).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from collections.abc import Callable, Sequence

import uvicorn
from standardwebhooks import Webhook
from sqlalchemy import make_url, text
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from starlette.applications import Starlette

from demo.service_common.db import open_async_engine
from demo.service_common.push import FeedPush

AppFactory = Callable[..., Starlette]


def _failure_rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from exc
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _port(text: str) -> int:
    value = _non_negative(text)
    if value > 65535:
        raise argparse.ArgumentTypeError("must be at most 65535")
    return value


def build_parser(prog: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--db", required=True, help="SQLAlchemy URL, e.g. sqlite:///data.db")
    parser.add_argument("--api-key", required=True, help="value expected in X-API-Key")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=_port, default=0, help="0 picks a free port")
    parser.add_argument("--latency-ms", type=_non_negative, default=0)
    parser.add_argument("--failure-rate", type=_failure_rate, default=0.0)
    parser.add_argument("--webhook-url", help="push: POST a signed webhook here after each change "
                        "(the hub's /hooks/sources/<source>)")
    parser.add_argument("--webhook-secret", help="push: the Standard Webhooks secret (whsec_<base64>)")
    return parser


def _push(parser: argparse.ArgumentParser, args: argparse.Namespace, source: str | None) -> FeedPush | None:
    if args.webhook_url is None and args.webhook_secret is None:
        return None
    if args.webhook_url is None or args.webhook_secret is None or source is None:
        parser.error("--webhook-url and --webhook-secret go together")
    if not args.webhook_url.startswith(("http://", "https://")):
        parser.error("--webhook-url must be an http:// or https:// URL")
    try:
        Webhook(args.webhook_secret)
    except Exception:  # noqa: BLE001  empty, or not base64
        parser.error("--webhook-secret is not a Standard Webhooks secret (whsec_<base64>)")
    return FeedPush(url=args.webhook_url, secret=args.webhook_secret, source=source)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # protocol IPPROTO_TCP (not 0), so that asyncio turns Nagle off (TCP_NODELAY): otherwise
    # every response after the first on a kept-alive connection waits ~40 ms for an ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


async def _probe(db_url: str) -> None:
    """Fail before listening when the database cannot be opened."""
    engine = open_async_engine(db_url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


async def _serve(app: Starlette, sock: socket.socket, host: str) -> None:
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            await task
            return
        await asyncio.sleep(0.01)
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"ready http://{shown}:{port}", flush=True)
    await task


def main(
    argv: Sequence[str] | None, *, prog: str, description: str, create_app: AppFactory,
    source: str | None = None,
) -> int:
    """`source`: the service's source id in the hub, named in its webhooks."""
    parser = build_parser(prog, description)
    args = parser.parse_args(argv)
    push = _push(parser, args, source)
    try:
        app = create_app(
            db_url=args.db,
            api_key=args.api_key,
            latency_ms=args.latency_ms,
            failure_rate=args.failure_rate,
            **({"push": push} if push is not None else {}),
        )
    except ArgumentError as exc:
        print(f"{prog}: invalid --db URL: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_probe(args.db))
    except (SQLAlchemyError, OSError) as exc:
        shown = make_url(args.db).render_as_string(hide_password=True)
        print(f"{prog}: cannot open the database {shown}: {exc}", file=sys.stderr)
        return 1
    try:
        sock = _bind(args.host, args.port)
    except OSError as exc:
        print(f"{prog}: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    with sock:
        try:
            asyncio.run(_serve(app, sock, args.host))
        except SystemExit as exc:  # uvicorn exits this way when the start-up fails
            return exc.code if isinstance(exc.code, int) else 1
    return 0
