"""The data directory is the hub user's alone: files 0600, directories 0700.

It holds the store (the access ledger's personal-data trail), the issuer's private keys,
the head checkpoint file, API keys and configuration. The hub creates its own files that
way (`create_private_file`, the store's SQLite file before SQLite opens it; SQLite gives
its -wal and -shm files the database file's mode); `hub demo` and `hub serve` call
`tighten` at start-up for what an older version, another tool or a umask left readable:
anything of ours with group or other bits loses them, and what cannot be changed (another
owner, a read-only file system) is reported, not fatal.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from hub.settings import Settings

log = logging.getLogger("simpul.files")

FILE_MODE = 0o600
DIR_MODE = 0o700


def create_private_file(path: Path) -> None:
    """Create `path` empty and 0600 (with 0700 parents) unless it exists."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, which is (or becomes) 0600 before a byte is written."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(fd, FILE_MODE)
        handle.write(text)


def hub_files(settings: Settings) -> list[Path]:
    """What `tighten` looks after: the data directory (all of it), and the SQLite store
    and the checkpoint file wherever they are configured to be."""
    paths = [settings.data_dir, settings.resolved_checkpoint_file]
    store = settings.sqlite_store_file
    if store is not None:
        paths += [store, store.with_name(f"{store.name}-wal"), store.with_name(f"{store.name}-shm")]
    return paths


def secure_hub_files(settings: Settings) -> list[str]:
    """`tighten(hub_files(settings))`, refusing to walk a home directory or one above it
    (a data directory set to ``~`` must not make the whole home private); the warnings."""
    home = Path.home().resolve()
    paths, warnings = [], []
    for path in hub_files(settings):
        if path.is_dir() and (path.resolve() == home or path.resolve() in home.parents):
            warnings.append(f"{path} is a home directory or above one: its permissions were not changed; "
                            "give the hub a data directory of its own")
            continue
        paths.append(path)
    return warnings + tighten(paths)[1]


def tighten(paths: Iterable[Path]) -> tuple[list[Path], list[str]]:
    """Take group and other permissions off each path and, for directories, everything
    under them (symbolic links are left alone, not followed). Returns the paths changed and
    a warning for each that could not be."""
    changed: list[Path] = []
    warnings: list[str] = []
    for root in paths:
        if not root.exists():
            continue
        for path in _walk(root):
            _tighten_one(path, changed, warnings)
    for path in changed:
        log.warning("tightened permissions of %s (readable by others before)", path)
    return changed, warnings


def _walk(root: Path) -> Iterable[Path]:
    yield root
    if root.is_dir() and not root.is_symlink():
        for directory, subdirs, files in os.walk(root, followlinks=False):
            for name in (*subdirs, *files):
                yield Path(directory) / name


def _tighten_one(path: Path, changed: list[Path], warnings: list[str]) -> None:
    try:
        info = path.lstat()
    except OSError:  # gone meanwhile
        return
    if stat.S_ISLNK(info.st_mode) or not (info.st_mode & 0o077):
        return
    if info.st_uid != os.getuid():
        warnings.append(f"{path} is readable by others (mode {stat.S_IMODE(info.st_mode):o}) and owned by "
                        f"another user (uid {info.st_uid}); take its group and other permissions off")
        return
    try:
        os.chmod(path, stat.S_IMODE(info.st_mode) & 0o700)
    except OSError as exc:
        warnings.append(f"{path} is readable by others and could not be changed: {exc.strerror or exc}")
        return
    changed.append(path)
