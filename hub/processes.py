"""Starting the sample source systems as separate programs and stopping them again."""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass


class ServiceStartError(RuntimeError):
    pass


@dataclass
class RunningService:
    name: str
    process: subprocess.Popen[str]
    url: str

    def stop(self, timeout: float = 5.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self.process.stdout:
            self.process.stdout.close()


def _drain(stream: object) -> None:
    try:
        for _ in stream:  # type: ignore[attr-defined]
            pass
    except (OSError, ValueError):
        pass


def start_service(name: str, module: str, args: Sequence[str], *, timeout: float = 60.0) -> RunningService:
    """Run `python -m module args...` and wait for its `ready <url>` line on stdout."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdout=subprocess.PIPE,
        stderr=None,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                continue
            line = process.stdout.readline()
            if not line:
                raise ServiceStartError(f"{name} exited with code {process.wait()} before it was ready")
            if line.startswith("ready "):
                # keep draining stdout so that a chatty service never blocks on a full pipe
                threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()
                return RunningService(name, process, line.split()[1])
        raise ServiceStartError(f"{name} was not ready within {timeout:.0f} s")
    except BaseException:
        process.kill()
        process.wait()
        raise
    finally:
        selector.close()
