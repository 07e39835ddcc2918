"""`hub serve --workers N`: N hub processes on one port, one per core.

Each worker is a spawned process that builds its own settings (the same configuration
file, data directory, command-line overrides and environment as the command), app,
engines, HTTP pools and event loop, and listens on its own socket bound to the port with
`SO_REUSEPORT`: the kernel spreads new connections over the workers. (With one socket
shared by every worker, the worker that wakes first accepts every pending connection:
measured, 32 keep-alive clients all landed on one of two workers.) The supervisor holds
the port bound (not listening, so no connection waits on it), restarts a worker that
dies, gives up if a worker dies within `STARTUP_SECONDS` of its start (it would fail the
same way again), and on SIGTERM or SIGINT passes SIGTERM on: every worker shuts down
gracefully within `shutdown_grace_seconds` (`hub.shutdown`), then anything left is killed.

What the workers share goes through the hub store and Redis, as between instances: the
ledger chain (appended under the store's lock, so N workers keep one unforked chain),
idempotency keys, surveys, revoked clients; rate limits through Redis (`redis_url`),
else each worker counts its own. So more than one worker needs the store on PostgreSQL:
SQLite is refused (`check_workers`).

Metrics: the supervisor points `PROMETHEUS_MULTIPROC_DIR` at a private directory it
creates empty before the first worker starts and removes when it stops; each worker
writes its figures there (prometheus_client's multiprocess mode, hub.metrics), and
`mark_process_dead` drops the live gauges of a worker that exited. Any scrape, whichever
worker answers it on the main port, shows the sum over all workers. With `metrics_port`
the supervisor itself serves that port (the workers do not bind it, and the main port
answers 404 for `/metrics`, as with one process).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from hub.settings import ConfigError, Settings, load_settings

log = logging.getLogger("hub.workers")

MAX_WORKERS = 64
STARTUP_SECONDS = 10.0  # a worker that dies sooner is not restarted: the start itself fails


def check_workers(settings: Settings, workers: int) -> None:
    """Refuse, with what to do instead, a worker count this configuration cannot serve."""
    if not 1 <= workers <= MAX_WORKERS:
        raise ConfigError(f"--workers must be between 1 and {MAX_WORKERS}, got {workers}")
    if workers == 1:
        return
    if settings.resolved_store_url.startswith("sqlite"):
        raise ConfigError(
            f"--workers {workers}: the SQLite hub store serves one process only (its ledger chain, "
            "idempotency keys and surveys would be written by several processes without a shared "
            "lock). Put the store on PostgreSQL (store_url = \"postgresql+asyncpg://...\") or run "
            "one worker per instance."
        )


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port) with SO_REUSEPORT, not yet listening.
    IPPROTO_TCP, not 0: asyncio turns Nagle off only on sockets whose proto is TCP."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    return sock


def serve_workers(settings: Settings, workers: int, *, config: Path | None, data_dir: Path | None,
                  overrides: dict[str, Any]) -> int:
    """Run `workers` processes until SIGTERM or SIGINT; the exit code (1: a worker could
    not start)."""
    from prometheus_client import multiprocess

    from hub.metrics import MULTIPROC_ENV

    reserved = reuse_port_socket(settings.host, settings.port)
    port = reserved.getsockname()[1]  # --port 0: the one the kernel picked, for every worker
    metrics_dir = tempfile.mkdtemp(prefix="simpul-metrics-")  # private (0700) and empty
    previous_dir = os.environ.get(MULTIPROC_ENV)
    os.environ[MULTIPROC_ENV] = metrics_dir  # inherited by the spawned workers before their imports
    spec = {
        "config": str(config) if config is not None else None,
        "data_dir": str(data_dir) if data_dir is not None else None,
        "overrides": {k: v for k, v in {**overrides, "port": port}.items() if v is not None},
    }
    context = multiprocessing.get_context("spawn")
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}

    def start() -> tuple[BaseProcess, float]:
        process = context.Process(target=run_worker, args=(json.dumps(spec),), daemon=False)
        process.start()
        return process, time.monotonic()

    failed = False
    metrics_stop = threading.Event()
    try:
        metrics_thread = _serve_metrics(settings, metrics_dir, metrics_stop)
        running = [start() for _ in range(workers)]
        log.info("hub serving on %s:%d with %d workers (pids %s)", settings.host, port, workers,
                 ", ".join(str(p.pid) for p, _ in running))
        while not stop.wait(0.5):
            for index, (process, started) in enumerate(running):
                if process.is_alive():
                    continue
                multiprocess.mark_process_dead(process.pid, metrics_dir)  # its live gauges go
                if time.monotonic() - started < STARTUP_SECONDS:
                    log.error("worker %s exited with %s during its start: stopping", process.pid, process.exitcode)
                    failed = True
                    stop.set()
                    break
                log.warning("worker %s exited with %s: starting another", process.pid, process.exitcode)
                running[index] = start()
        _stop_all([p for p, _ in running], grace=settings.shutdown_grace_seconds + 10)
        metrics_stop.set()
        if metrics_thread is not None:
            metrics_thread.join(10)
    finally:
        metrics_stop.set()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        reserved.close()
        shutil.rmtree(metrics_dir, ignore_errors=True)
        if previous_dir is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = previous_dir
    return 1 if failed else 0


def _serve_metrics(settings: Settings, metrics_dir: str, stop: threading.Event) -> threading.Thread | None:
    """`metrics_port`, served by the supervisor from every worker's figures until `stop`;
    a port that cannot be bound raises ConfigError here, before any worker starts."""
    if settings.metrics_port is None:
        return None
    from starlette.requests import Request
    from starlette.responses import Response

    from hub.metrics import CONTENT_TYPE_LATEST, aggregated
    from hub.metrics_access import metrics_server

    async def endpoint(request: Request) -> Response:
        return Response(aggregated(metrics_dir), media_type=CONTENT_TYPE_LATEST)

    bound: concurrent.futures.Future[int | None] = concurrent.futures.Future()

    async def serve() -> None:
        try:
            async with metrics_server(settings, endpoint) as port:
                bound.set_result(port)
                while not stop.is_set():
                    await asyncio.sleep(0.2)
        except BaseException as exc:
            if not bound.done():
                bound.set_exception(exc)
            else:
                raise

    thread = threading.Thread(target=asyncio.run, args=(serve(),), name="simpul-metrics-port", daemon=True)
    thread.start()
    port = bound.result(timeout=30)
    log.info("metrics of every worker on %s:%s", settings.metrics_host or settings.host, port)
    return thread


def _stop_all(processes: list[BaseProcess], *, grace: float) -> None:
    for process in processes:
        if process.is_alive() and process.pid is not None:
            os.kill(process.pid, signal.SIGTERM)  # each shuts down gracefully (hub.shutdown)
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            log.error("worker %s still running after %.0f s: killed", process.pid, grace)
            process.kill()
            process.join()


def run_worker(spec_json: str) -> None:
    """One worker (in its own spawned process): settings, logging, app, its own listener."""
    from hub import shutdown
    from hub.app import create_app
    from hub.log_format import configure_logging

    spec = json.loads(spec_json)
    settings = load_settings(
        Path(spec["config"]) if spec["config"] else None,
        data_dir=Path(spec["data_dir"]) if spec["data_dir"] else None,
        **spec["overrides"],
    )
    configure_logging(settings.log_format, settings.log_level)
    app = create_app(settings, metrics_port_served=False)  # the supervisor serves metrics_port
    sock = reuse_port_socket(settings.host, settings.port)
    server = shutdown.graceful_server(app, host=settings.host, port=settings.port, log_level=settings.log_level)
    server.run(sockets=[sock])
