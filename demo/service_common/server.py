"""Command line of a sample service: `python -m demo.<service> --db URL --api-key KEY ...`.

Binds the socket itself (port 0 picks a free one), serves with uvicorn and prints
`ready http://HOST:PORT` on stdout once it accepts connections.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from collections.abc import Callable, Sequence

import uvicorn
from sqlalchemy import make_url, text
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from starlette.applications import Starlette

from demo.service_common.db import open_async_engine

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
    return parser


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
    argv: Sequence[str] | None, *, prog: str, description: str, create_app: AppFactory
) -> int:
    args = build_parser(prog, description).parse_args(argv)
    try:
        app = create_app(
            db_url=args.db,
            api_key=args.api_key,
            latency_ms=args.latency_ms,
            failure_rate=args.failure_rate,
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
