"""The append-only file of signed head checkpoints: one JSON object a line.

Each line carries `prev`, the sha256 of the line before it (64 zeros for the first), so
a line removed or changed in the middle, or lines cut from the front, break the links.
Lines cut from the end leave a consistent, shorter file: only a copy kept elsewhere (the
published checkpoint, saved by someone else) can show that.

Writers on one machine (the workers of one hub, the CLI) take an exclusive `flock` on the
file while they read its last line and append, so the links never fork; instances on other
machines keep files of their own. The file is created 0600 in a 0700 directory. A line is
written with one `write` on an O_APPEND descriptor and synced. A last line without its
newline (a write cut short by a crash) was never a whole checkpoint: readers leave it out
and the next writer cuts it off.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger("simpul.ledger")

#: the `prev` of a file's first line
FIRST_PREV = "0" * 64
_TAIL_CHUNK = 64 * 1024
#: seconds a writer waits for another to let go of the file
LOCK_TIMEOUT = 10.0


def line_hash(line: bytes) -> str:
    """What the next line's `prev` holds: sha256 of the line's bytes, without its newline."""
    return hashlib.sha256(line).hexdigest()


@dataclass(frozen=True, slots=True)
class FileLine:
    number: int  # 1-based
    record: dict[str, Any]


@dataclass(slots=True)
class FileReading:
    """A whole file, read: the lines that parse, and what is wrong with the rest."""

    lines: list[FileLine] = field(default_factory=list)
    whole_lines: int = 0  # every line ending in a newline, parsed or not
    problems: list[str] = field(default_factory=list)  # broken links, lines that do not parse
    torn_tail: bool = False  # a last line without its newline, left out


class CheckpointFile:
    """One append-only JSON-lines file, linked line to line."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def read(self) -> FileReading:
        """Every whole line, in order, with the links checked. A missing file reads empty."""
        reading = FileReading()
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return reading
        lines = data.split(b"\n")
        reading.torn_tail = bool(lines[-1])
        reading.whole_lines = len(lines) - 1
        prev = FIRST_PREV
        for number, line in enumerate(lines[:-1], start=1):
            record = _parse(line)
            if record is None:
                reading.problems.append(f"line {number} is not a JSON object")
            elif record.get("prev") != prev:
                reading.problems.append(
                    f"line {number} does not follow line {number - 1}: lines were removed, "
                    "inserted or changed before it" if number > 1 else
                    "line 1 is not the first line the file had: its first lines were removed"
                )
            if record is not None:
                reading.lines.append(FileLine(number, record))
            prev = line_hash(line)
        return reading

    @contextmanager
    def locked(self) -> Iterator[LockedFile]:
        """The file opened for appending under an exclusive lock (blocking: call it from a
        worker thread in async code). Creates the file (0600) and its directory (0700)."""
        locked = self.lock()
        try:
            yield locked
        finally:
            locked.release()

    def lock(self, *, timeout: float = LOCK_TIMEOUT) -> LockedFile:
        """`locked` for callers that release across awaits: call `release()` when done.
        Raises `TimeoutError` (an `OSError`) if another holder keeps the lock `timeout`
        seconds: a stuck writer must not hold up the hub's start or shutdown."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise TimeoutError(f"{self.path} stayed locked by another writer for {timeout:g} s") from None
                    time.sleep(0.01)
        except BaseException:
            os.close(fd)
            raise
        return LockedFile(fd, self.path)


class LockedFile:
    """The file while this process holds its lock."""

    def __init__(self, fd: int, path: Path) -> None:
        self._fd = fd
        self._path = path

    def last(self) -> tuple[dict[str, Any] | None, str]:
        """The last whole line (None if the file has none, or it does not parse) and the
        `prev` the next line must carry. Cuts off a torn last line first."""
        size = os.fstat(self._fd).st_size
        if size == 0:
            return None, FIRST_PREV
        end = self._whole_lines_end(size)
        if end < size:
            log.warning("ledger checkpoint file %s: cutting off an incomplete last line", self._path)
            os.ftruncate(self._fd, end)
            os.fsync(self._fd)
        if end == 0:
            return None, FIRST_PREV
        line = self._line_ending_at(end - 1)
        return _parse(line), line_hash(line)

    def append(self, record: dict[str, Any]) -> None:
        """Write `record` as the next line, durably."""
        line = orjson.dumps(record)
        if b"\n" in line:  # pragma: no cover - orjson never writes one
            raise ValueError("a checkpoint line must not contain a newline")
        os.write(self._fd, line + b"\n")
        os.fsync(self._fd)

    def release(self) -> None:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)

    def _whole_lines_end(self, size: int) -> int:
        """The offset just past the last newline (0 if there is none)."""
        end = size
        while end > 0:
            start = max(0, end - _TAIL_CHUNK)
            chunk = os.pread(self._fd, end - start, start)
            at = chunk.rfind(b"\n")
            if at >= 0:
                return start + at + 1
            end = start
        return 0

    def _line_ending_at(self, newline: int) -> bytes:
        """The line whose newline is at offset `newline`, without it."""
        begin = self._whole_lines_end(newline)
        return os.pread(self._fd, newline - begin, begin)


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None
