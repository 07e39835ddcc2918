"""`hub serve` as a separate process on 127.0.0.1, as an operator runs it: started with
the given arguments, waited for until `/healthz` answers, stopped with SIGTERM (or
whatever the test sends) and always reaped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class HubProcess:
    process: subprocess.Popen[str]
    url: str
    log: Path

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Send `sig` and wait for the exit; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def hub_serve(*args: str, log: Path, env: dict[str, str] | None = None, ready_timeout: float = 90) -> Iterator[HubProcess]:
    """`hub serve --port <free> *args`, ready; killed at the end if the test did not stop it."""
    port = free_port()
    command = [sys.executable, "-c", "import sys; from hub.cli import main; sys.exit(main(sys.argv[1:]))",
               "serve", "--host", "127.0.0.1", "--port", str(port), *args]
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT, text=True)
    hub = HubProcess(process, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if process.poll() is not None:
                raise AssertionError(f"hub serve exited with {process.returncode}:\n{hub.output()}")
            try:
                if httpx.get(f"{hub.url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"hub serve not ready in {ready_timeout} s:\n{hub.output()}")
            time.sleep(0.2)
        yield hub
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
