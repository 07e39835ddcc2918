"""The system under test: sample data, the sample sources and the hub in its own process.

The hub runs as in production: under uvicorn, in a separate process, reading a TOML
configuration written here (the demo's sources, the development issuer for tokens,
source traces on so every response tells which source calls it made, pages of up to
1,000 rows, a fresh store per run so the access ledger does not grow across runs).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.options import BenchError
from hub.demo import DemoSources, ensure_demo_data, start_demo_sources
from hub.processes import RunningService, ServiceStartError, start_service
from hub.settings import ConfigError, Settings, load_settings

BENCH_CONFIG = "hub-bench.toml"
BENCH_STORE = "hub-bench.db"
BENCH_CHECKPOINTS = "hub-bench-checkpoints.jsonl"
MAX_PAGE_SIZE = 1000


@dataclass
class BenchStack:
    data_dir: Path
    manifest: dict
    sources: DemoSources
    hub: RunningService
    settings: Settings  # the hub's settings, as its process reads them
    worker_pids: list[int] = field(default_factory=list)  # `hub serve --workers N`'s workers

    @property
    def url(self) -> str:
        return self.hub.url

    @property
    def hub_pid(self) -> int:
        return self.hub.process.pid


def _fresh_store(data_dir: Path) -> Path:
    store = data_dir / BENCH_STORE
    for path in (store, *(store.with_name(store.name + s) for s in ("-wal", "-shm", "-journal")),
                 data_dir / BENCH_CHECKPOINTS):
        path.unlink(missing_ok=True)
    return store


def _checkpoint_file(data_dir: Path, store_url: str | None) -> Path:
    """The ledger checkpoints of the run's store: a fresh SQLite store gets a fresh file
    (the old one would name entries the new store never had: "LEDGER ROLLBACK?"), a
    store given by URL keeps its own file from run to run."""
    if store_url is None:
        return data_dir / BENCH_CHECKPOINTS
    return data_dir / f"hub-bench-checkpoints-{hashlib.sha256(store_url.encode()).hexdigest()[:12]}.jsonl"


def _rate_limits_off(given: Sequence[str]) -> list[str]:
    """Lines that switch off any rate limiting the hub's settings offer (a benchmark
    measures cost, not policy), unless the caller set that key with --hub-setting."""
    lines = []
    for name, info in Settings.model_fields.items():
        if "rate" not in name or any(line.strip().startswith(name) for line in given):
            continue
        annotation = info.annotation
        if annotation is bool:
            lines.append(f"{name} = false")
        elif isinstance(annotation, type) and "enabled" in getattr(annotation, "model_fields", {}):
            lines.append(f"{name}.enabled = false")
    return lines


def write_bench_config(sources: DemoSources, *, extra: Sequence[str] = (), store_url: str | None = None) -> Path:
    """The hub's configuration for the run; `extra` lines (`key = value`) come first so
    they may set any top-level setting, e.g. a rate limiter's limits."""
    data_dir = sources.data_dir
    lines = [
        "# Written by `hub bench` for its own hub process.",
        *_rate_limits_off(extra),
        *extra,
        f"data_dir = {json.dumps(str(data_dir))}",
        f"store_url = {json.dumps(store_url or 'sqlite+aiosqlite:///' + str(_fresh_store(data_dir)))}",
        "trace_sources = true",
        f"max_page_size = {MAX_PAGE_SIZE}",
        "",
        "[ledger_checkpoints]",
        f"file = {json.dumps(str(_checkpoint_file(data_dir, store_url)))}",
        "",
        "[issuer]",
        "development = true",
    ]
    for source_id, source in sources.source_settings().items():
        lines += ["", f"[sources.{source_id}]", f"backend = {json.dumps(source.backend)}"]
        lines.append(f"url = {json.dumps(source.url)}")
        if source.api_key is not None:
            lines.append(f"api_key = {json.dumps(source.api_key.get_secret_value())}")
    path = data_dir / BENCH_CONFIG
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def prepare_data(data_dir: Path, *, residents: int, region_file: Path) -> dict:
    try:
        return ensure_demo_data(data_dir, residents=residents, region_file=region_file)
    except (OSError, RuntimeError) as exc:  # hub.demo.DemoDataError has the generator's words
        raise BenchError("DATA_GENERATION_FAILED", str(exc)) from exc


@contextmanager
def running_stack(
    data_dir: Path, *, manifest: dict, extra_settings: Sequence[str] = (), workers: int | None = None,
    store_url: str | None = None,
) -> Iterator[BenchStack]:
    """Start the sample sources and the hub; stop them all on the way out."""
    try:
        sources = start_demo_sources(data_dir)
    except ServiceStartError as exc:
        raise BenchError("SOURCE_START_FAILED", str(exc)) from exc
    hub: RunningService | None = None
    try:
        config = write_bench_config(sources, extra=extra_settings, store_url=store_url)
        try:
            settings = load_settings(config)
        except ConfigError as exc:
            raise BenchError("BAD_HUB_SETTING", str(exc)) from exc
        worker_pids: list[int] = []
        try:
            if workers is None:
                hub = start_service("hub", "bench.server", ["--config", str(config)], timeout=300)
            else:
                hub, worker_pids = start_hub_serve(config, workers)
        except ServiceStartError as exc:
            raise BenchError("HUB_START_FAILED", str(exc)) from exc
        yield BenchStack(data_dir=data_dir, manifest=manifest, sources=sources, hub=hub, settings=settings,
                         worker_pids=worker_pids)
    finally:
        if hub is not None:
            hub.stop(timeout=15)
        sources.stop()


def start_hub_serve(config: Path, workers: int, *, timeout: float = 300) -> tuple[RunningService, list[int]]:
    """`hub serve --config FILE --workers N` as a deployment runs it; ready once `/healthz`
    answers and its N workers run (with one worker the process serves itself)."""
    import socket
    import sys
    import time

    import httpx
    import psutil

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "serve", "--config", str(config), "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    service = RunningService("hub", process, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceStartError(f"hub serve exited with {process.returncode}: {process.stderr.read()[-2000:]}")
        pids = [c.pid for c in psutil.Process(process.pid).children()
                if "spawn_main" in " ".join(c.cmdline())] if workers > 1 else []
        try:
            if len(pids) == (workers if workers > 1 else 0) and \
                    httpx.get(f"{service.url}/healthz", timeout=2).status_code == 200:
                threading.Thread(target=_drain, args=(process.stderr,), daemon=True).start()
                return service, pids
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    service.stop()
    raise ServiceStartError(f"hub serve was not ready within {timeout:.0f} s")


def _drain(stream: object) -> None:
    try:
        for _ in stream:  # type: ignore[attr-defined]
            pass
    except (OSError, ValueError):
        pass
