"""`hub demo` as its user sees it: a line at once, progress on every long step (sample
data, sample services, the hub), the time since the command was launched, and at the end
the URLs, a token per role and a `curl` line that works as printed.

The port is taken first, before anything is generated, started or written: a second demo
on a busy port stops there and leaves the first one's configuration as it was.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import socket
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from hub.processes import RunningService
    from hub.settings import Settings

# the example's role: it may read personal data of its own kelurahan's residents
EXAMPLE_ROLE = "kelurahan_officer"
EXAMPLE_PURPOSE = "population-service"
EXAMPLE_QUERY = ("{ citizens(first: 5) { totalCount edges { node { nik fullName kelurahan { name } "
                 "applications { number permitType { name } status dueDate } } } } }")
STEP_NAMES = {"population": "residents", "licensing": "applications", "complaints": "complaints"}


class PortUnavailable(Exception):
    pass


# where /proc is missing: the clock starts when this module is first imported
_IMPORTED = time.monotonic()


def seconds_since_launch() -> tuple[Callable[[], float], bool]:
    """A clock of the seconds since this process was started, and whether it is exactly
    that. On Linux from the process's start tick (/proc/self/stat) and the boot clock, so
    it counts the interpreter's start and every import; elsewhere from this module's
    import, which leaves Python's own start-up out (and says so)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat:
            ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
        started = ticks / os.sysconf("SC_CLK_TCK")
        boot = time.CLOCK_BOOTTIME
        return (lambda: time.clock_gettime(boot) - started), True
    except (OSError, ValueError, IndexError, AttributeError):
        return (lambda: time.monotonic() - _IMPORTED), False


def reserve_port(host: str, port: int) -> socket.socket:
    """Listen on host:port now; the hub is served from this socket later."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        reason = "is already in use" if exc.errno in (98, 48, 10048) else f"cannot be used ({exc.strerror})"
        raise PortUnavailable(
            f"port {port} on {host} {reason} (another `hub demo`?); nothing was started or "
            f"changed. Stop the other program or choose a free port with --port."
        ) from exc


def curl_example(url: str, token: str) -> str:
    body = json.dumps({"query": EXAMPLE_QUERY})
    return " ".join([
        "curl -s", shlex.quote(f"{url}/graphql"),
        "-H", shlex.quote(f"Authorization: Bearer {token}"),
        "-H", shlex.quote(f"X-Access-Purpose: {EXAMPLE_PURPOSE}"),
        "-H", shlex.quote("Content-Type: application/json"),
        "-d", shlex.quote(body),
    ])


class _Steps:
    """Progress bars (rich) while a step runs and one line per step, so that a log or a
    pipe sees each step begin and end as it happens."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress: Progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), transient=True,
        )
        self._started: dict[TaskID, float] = {}

    def __enter__(self) -> _Steps:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.progress.stop()

    def say(self, line: str) -> None:
        print(line, flush=True)

    def begin(self, description: str, total: float | None = None) -> TaskID:
        self.say(f"  {description} …")
        task = self.progress.add_task(description, total=total)
        self._started[task] = time.monotonic()
        return task

    def update(self, task: TaskID, done: float, total: float | None = None) -> None:
        self.progress.update(task, completed=done, total=total)

    def end(self, task: TaskID, outcome: str) -> None:
        seconds = time.monotonic() - self._started.pop(task, time.monotonic())
        self.progress.remove_task(task)
        self.say(f"  ✓ {outcome} ({seconds:.1f} s)")


def _generation_listener(steps: _Steps) -> Callable[[dict[str, Any]], None]:
    tasks: dict[str, TaskID] = {}
    finished: set[str] = set()

    def on_event(event: dict[str, Any]) -> None:
        step = event.get("step")
        if step not in STEP_NAMES or step in finished:
            return
        done, total = int(event.get("done", 0)), int(event.get("total", 0))
        if step not in tasks:
            tasks[step] = steps.begin(f"Generating {STEP_NAMES[step]}", total)
        steps.update(tasks[step], done, total)
        if done >= total:
            finished.add(step)
            steps.end(tasks.pop(step), f"{done:,} {STEP_NAMES[step]}")

    return on_event


def run_demo(args: argparse.Namespace) -> int:
    elapsed, from_launch = seconds_since_launch()
    print(f"Simpul demo: starting on http://{args.host}:{args.port} …", flush=True)
    try:
        listener = reserve_port(args.host, args.port)
    except PortUnavailable as exc:
        print(f"hub demo: {exc}", file=sys.stderr, flush=True)
        return 2
    with listener, _Steps() as steps:
        return _run(args, steps, listener, elapsed, from_launch)


def _run(args: argparse.Namespace, steps: _Steps, listener: socket.socket, elapsed: Callable[[], float],
         from_launch: bool) -> int:
    loading = steps.begin("Loading the hub")
    from hub.demo import demo_data_ready, demo_settings, ensure_demo_data, start_demo_sources
    from hub.settings import load_settings

    base = load_settings(args.config, data_dir=args.data_dir)
    steps.end(loading, "hub loaded")
    data_dir = base.data_dir
    manifest = demo_data_ready(data_dir, args.residents)
    if manifest is None:
        steps.say(f"  Sample data for {args.residents:,} residents into {data_dir} (first run only):")
        listen = _generation_listener(steps)
        listen({"step": "population", "done": 0, "total": args.residents})  # while the generator loads
        manifest = ensure_demo_data(data_dir, residents=args.residents, region_file=base.resolved_region_file,
                                    on_progress=listen)
    else:
        steps.say(f"  ✓ Sample data in {data_dir}")
    steps.say(f"    {manifest.get('residents'):,} residents, {manifest.get('families'):,} families, "
              f"{manifest.get('applications'):,} applications, {manifest.get('complaints'):,} complaints, "
              f"{manifest.get('surveys', 0):,} survey answers")

    from hub.demo import SAMPLE_SERVICES

    starting = steps.begin("Starting the sample services", len(SAMPLE_SERVICES))
    started: list[RunningService] = []

    def on_started(service: RunningService) -> None:
        started.append(service)
        steps.update(starting, len(started))

    port = listener.getsockname()[1]
    url = f"http://{args.host if ':' not in args.host else f'[{args.host}]'}:{port}"
    stack = start_demo_sources(data_dir, on_started=on_started, hub_url=url)  # they push to the hub
    try:
        steps.end(starting, "sample services " + ", ".join(f"{s.name} {s.url}" for s in stack.services))
        citizen = _citizen_page(url, args.host)
        settings = demo_settings(stack, host=args.host, port=port, freeze_heap_after_start=True,
                                 **({"citizen": citizen} if citizen is not None else {}))
        hub_task = steps.begin("Starting the hub")
        tokens = _prepare_hub(settings)

        def on_ready() -> None:
            steps.end(hub_task, "hub started")
            steps.stop()
            _print_ready(url, stack.services, tokens, data_dir, elapsed(), from_launch, citizen=citizen is not None)

        _serve(settings, listener, on_ready)
    finally:
        stack.stop()
    return 0


def _citizen_page(url: str, host: str) -> object | None:
    """The citizen page with the development identity provider, which only a loopback
    address may serve (hub.citizen.settings.check_allowed)."""
    from hub.citizen.dev_idp import demo_citizen_settings
    from hub.citizen.settings import DevIdpRefused, check_allowed

    citizen = demo_citizen_settings(url)
    try:
        check_allowed(citizen, development=True, host=host)
    except DevIdpRefused:
        return None
    return citizen


def _prepare_hub(settings: Settings) -> dict[str, str]:
    from hub.demo import demo_tokens
    from hub.demo_surveys import seed_demo_surveys
    from hub.private_files import secure_hub_files

    for warning in secure_hub_files(settings):
        print(f"hub: warning: {warning}", file=sys.stderr, flush=True)
    asyncio.run(seed_demo_surveys(settings))  # sample survey answers, once
    return asyncio.run(demo_tokens(settings))


def _serve(settings: Settings, listener: socket.socket, on_ready: Callable[[], None]) -> None:
    """Serve until Ctrl+C, with the hub's graceful shutdown (hub.shutdown); `on_ready` is
    called once the server listens and the app's start-up has run."""
    from hub.app import create_app
    from hub.log_format import configure_logging
    from hub.shutdown import graceful_server

    app = create_app(settings)
    configure_logging(settings.log_format, "warning")
    server = graceful_server(app, host=settings.host, port=settings.port, log_level="warning")
    startup = server.startup

    async def startup_then_ready(sockets: list[socket.socket] | None = None) -> None:
        await startup(sockets=sockets)
        if server.started and not server.should_exit:
            on_ready()

    server.startup = startup_then_ready  # type: ignore[method-assign]
    server.run(sockets=[listener])


def _print_ready(url: str, services: list[RunningService], tokens: dict[str, str], data_dir: object,
                 seconds: float, from_launch: bool, *, citizen: bool = False) -> None:
    since = "`hub demo` was launched" if from_launch else "`hub demo` started (Python's own start-up not counted)"
    lines = [
        "",
        f"Simpul hub ready, {seconds:.1f} s after {since}",
        f"  GraphQL (GraphiQL in a browser): {url}/graphql",
        f"  Public page:                     {url}/",
        *([f"  Citizen page (Bahasa Indonesia): {url}/warga/  (sign in as any sample resident through the",
           f"    DEVELOPMENT-ONLY identity provider at {url}/dev-idp; off unless the demo listens on 127.0.0.1)"]
          if citizen else []),
        f"  Health: {url}/healthz   Sources: {url}/readyz",
        *(f"  Sample {service.name} service: {service.url}" for service in services),
        "",
        "Tokens (send as `Authorization: Bearer <token>`; valid 8 hours;"
        f" more with `hub token --role ROLE --data-dir {data_dir}`):",
        *(f"  {role}: {token}" for role, token in tokens.items()),
    ]
    if EXAMPLE_ROLE in tokens:
        lines += [
            "",
            f"Try it as {EXAMPLE_ROLE} (residents of its own kelurahan; personal data needs a declared "
            f"purpose, here {EXAMPLE_PURPOSE}):",
            curl_example(url, tokens[EXAMPLE_ROLE]),
        ]
    lines += ["", "Stop with Ctrl+C.", ""]
    print("\n".join(lines), flush=True)
