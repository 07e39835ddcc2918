"""The licensing service's file store: document contents on disk, written so that a
failed upload leaves nothing behind.

    store/
      .staging/<id>   an upload being received (copied in chunks, hashed on the way)
      <id>            a stored document (moved from staging once its rows are written)

A `Batch` collects the files of one request. Each is copied to staging as it is read;
`commit()` moves them into place (a rename on the same file system); if anything fails
before the database transaction commits, `discard()` removes staged and moved files
alike, so no file outlives a refused or failed request.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import puremagic
from sqlalchemy.engine import make_url

CHUNK = 64 * 1024
SNIFF_BYTES = 8192


@dataclass(slots=True)
class StagedFile:
    id: str
    field: str  # the form field (requirement code) it came in
    filename: str
    size: int
    sha256: str
    types: tuple[str, ...]  # media types its content looks like (puremagic), best first
    path: Path


def sniff(head: bytes) -> tuple[str, ...]:
    """The media types `head` (a file's first bytes) looks like, best guess first."""
    if not head:
        return ()
    try:
        found = puremagic.magic_string(head)
    except puremagic.PureError:
        return ()
    seen: list[str] = []
    for match in found:
        if match.mime_type and match.mime_type not in seen:
            seen.append(match.mime_type)
    return tuple(seen)


def store_dir_for(db_url: str) -> Path:
    """Beside a SQLite database file (`licensing.db` -> `licensing-berkas/`); for other
    databases, under the system's temporary directory (pass `files_dir` in production)."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        db = Path(url.database)
        return db.with_name(f"{db.stem}-berkas")
    digest = hashlib.sha256(db_url.encode()).hexdigest()[:16]
    return Path(os.environ.get("TMPDIR", "/tmp")) / f"simpul-licensing-berkas-{digest}"


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.staging = root / ".staging"

    def open(self) -> None:
        self.staging.mkdir(parents=True, exist_ok=True, mode=0o700)
        for leftover in self.staging.iterdir():  # a crash mid-upload: nothing refers to them
            leftover.unlink(missing_ok=True)

    def path_of(self, file_id: str) -> Path:
        return self.root / file_id

    def batch(self) -> Batch:
        return Batch(self)


@dataclass(slots=True)
class Batch:
    store: FileStore
    staged: list[StagedFile] = field(default_factory=list)
    moved: list[Path] = field(default_factory=list)

    def stage(self, source: BinaryIO, *, field_name: str, filename: str, limit: int) -> StagedFile:
        """Copy `source` into staging in chunks (sha256 and size on the way); stops
        reading at `limit` + 1 bytes so an oversized file costs no more than that."""
        file_id = secrets.token_hex(16)
        path = self.store.staging / file_id
        digest = hashlib.sha256()
        size = 0
        head = b""
        source.seek(0)
        with open(path, "xb") as out:
            self.staged.append(StagedFile(file_id, field_name, filename, 0, "", (), path))
            while size <= limit and (chunk := source.read(CHUNK)):
                if len(head) < SNIFF_BYTES:
                    head += chunk[: SNIFF_BYTES - len(head)]
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        staged = StagedFile(file_id, field_name, filename, size, digest.hexdigest(), sniff(head), path)
        self.staged[-1] = staged
        return staged

    def commit(self, staged: StagedFile) -> None:
        """Move one staged file into place (call inside the transaction that records it)."""
        final = self.store.path_of(staged.id)
        os.replace(staged.path, final)
        self.moved.append(final)

    def discard(self) -> None:
        """Remove every file of the batch, staged or moved (the request failed)."""
        for staged in self.staged:
            staged.path.unlink(missing_ok=True)
        for path in self.moved:
            path.unlink(missing_ok=True)
        self.staged.clear()
        self.moved.clear()

    def drop_staging(self) -> None:
        """Remove what is still staged (kept files were moved already)."""
        for staged in self.staged:
            staged.path.unlink(missing_ok=True)


def remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


__all__ = ["Batch", "FileStore", "StagedFile", "remove", "sniff", "store_dir_for"]
