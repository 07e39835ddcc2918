"""`hub demo` as a separate program, read as its user reads it: the lines it prints, with
the time each arrived, until it says how to stop it; and its `curl` example, run as printed."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.hub_process import free_port

__all__ = ["DemoRun", "free_port", "run_curl", "start_demo"]

READY = re.compile(r"^Simpul hub ready, ([0-9.]+) s after `hub demo` was launched$")
LAST_LINE = "Stop with Ctrl+C."


@dataclass
class DemoRun:
    process: subprocess.Popen[str]
    launched: float
    lines: list[tuple[float, str]] = field(default_factory=list)  # (seconds since Popen, line)
    _reader: threading.Thread | None = None

    @property
    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def read_until_ready(self, timeout: float) -> None:
        """Wait for the last line of the ready message, the end of the program, or
        `timeout`; raises AssertionError with what was printed if it never got ready."""
        if self._reader is None:
            self._reader = threading.Thread(target=self._read, daemon=True)
            self._reader.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(line.strip() == LAST_LINE for _, line in list(self.lines)):
                return
            if not self._reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"hub demo was not ready within {timeout:.0f} s:\n{self.text}")

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:  # a thread: a pipe's buffered lines never wait on select()
            self.lines.append((time.monotonic() - self.launched, line.rstrip("\n")))

    def ready_line(self) -> tuple[float, float]:
        """(seconds the demo says it took, seconds the test saw from launch to that line)."""
        for seen, line in self.lines:
            found = READY.match(line)
            if found:
                return float(found.group(1)), seen
        raise AssertionError(f"no ready line in:\n{self.text}")

    def value(self, label: str) -> str:
        for _, line in self.lines:
            if line.strip().startswith(label):
                return line.split(label, 1)[1].strip()
        raise AssertionError(f"no {label!r} line in:\n{self.text}")

    def curl_line(self) -> str:
        lines = [line for _, line in self.lines]
        for index, line in enumerate(lines):
            if line.startswith("Try it as "):
                return lines[index + 1]
        raise AssertionError(f"no curl example in:\n{self.text}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self._reader is not None:
            self._reader.join(10)
        if self.process.stdout:
            self.process.stdout.close()
        return self.process.returncode


def start_demo(command: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> DemoRun:
    launched = time.monotonic()
    process = subprocess.Popen(
        list(command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd,
        env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
    )
    return DemoRun(process=process, launched=launched)


def run_curl(line: str) -> dict:
    """Run the printed example exactly as a user pasting it would (a POSIX shell)."""
    assert line.startswith("curl "), line
    done = subprocess.run(["sh", "-c", line], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"curl failed ({done.returncode}): {done.stderr}"
    return json.loads(done.stdout)
