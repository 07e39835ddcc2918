"""`hub serve` as a separate program, exactly as a deployment (or a container) runs it:
a configuration file, a data directory, a port; stopped or killed by the test."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import psutil

from hub.demo import DemoSources
from tests.support.redis_server import free_port


def write_config(path: Path, stack: DemoSources, *, store_url: str, redis_url: str | None = None,
                 extra: Sequence[str] = ()) -> Path:
    lines = [*extra, f"store_url = {json.dumps(store_url)}"]
    if redis_url is not None:
        lines.append(f"redis_url = {json.dumps(redis_url)}")
    lines += ["metrics_refresh_seconds = 0", "", "[issuer]", "development = true"]
    for source_id, source in stack.source_settings().items():
        lines += ["", f"[sources.{source_id}]", f"backend = {json.dumps(source.backend)}",
                  f"url = {json.dumps(source.url)}"]
        if source.api_key is not None:
            lines.append(f"api_key = {json.dumps(source.api_key.get_secret_value())}")
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


class HubProcess:
    """One `hub serve` (with its workers); `url` once `/healthz` answers."""

    def __init__(self, config: Path, data_dir: Path, *, workers: int = 1, args: Sequence[str] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        command = [sys.executable, "-m", "hub.cli", "serve", "--config", str(config), "--data-dir", str(data_dir),
                   "--host", "127.0.0.1", "--port", str(self.port), *args]
        if workers > 1:
            command += ["--workers", str(workers)]
        self.log = data_dir / f"hub-{self.port}.log"
        self._log_file = self.log.open("wb")
        self.process = subprocess.Popen(command, stdout=self._log_file, stderr=subprocess.STDOUT,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def wait_ready(self, timeout: float = 90) -> HubProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"hub serve exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200 and \
                        len(self.worker_pids()) >= (self.workers if self.workers > 1 else 0):
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"hub serve was not ready within {timeout:.0f} s:\n{self.output()}")

    def worker_pids(self) -> list[int]:
        """The worker processes (none with one worker: the process serves itself)."""
        try:
            children = psutil.Process(self.process.pid).children()
        except psutil.Error:
            return []
        pids = []
        for child in children:  # spawned workers, not multiprocessing's resource tracker
            try:
                if "spawn_main" in " ".join(child.cmdline()):
                    pids.append(child.pid)
            except psutil.Error:
                continue
        return pids

    def kill(self) -> None:
        """SIGKILL the whole process group's hub: the supervisor and its workers."""
        for pid in [*self.worker_pids(), self.process.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(10)

    def stop(self, timeout: float = 20) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log_file.close()
        return self.process.returncode

    def output(self) -> str:
        if not self._log_file.closed:
            self._log_file.flush()
        return f"(exit {self.process.returncode}) " + self.log.read_text(errors="replace")[-4000:]


def hub_command(*args: str) -> subprocess.CompletedProcess[str]:
    """Another `hub` command (audit verify, migrate, check) as its own process."""
    return subprocess.run([sys.executable, "-m", "hub.cli", *args], capture_output=True, text=True, timeout=120)
