"""`hub audit verify`'s second half: the chain held to the signed head checkpoints.

Checkpoints come from the checkpoint file (the settings' `ledger_checkpoints.file`, or
`--checkpoints FILE`) and from each `--checkpoint SOURCE`: a URL (a hub's
`/.well-known/ledger-checkpoint`), a file holding one JSON object or JSON lines (a copy
saved earlier, by anyone), or the JSON itself. Signatures are checked with the hub
issuer's keys from the data directory, or with `--jwks FILE|URL` (a copy of the published
keys kept elsewhere). Every line must be linked to the line before and agree with the
chain, and be signed: the file's last signature vouches for the lines it links to, and
where a link is broken each line's own signature is checked. The report names each line
that fails.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from joserfc.jwk import KeySet
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.jwks import to_key_set
from auth.ledger import CheckpointFile, HeadCheckpoint, check_head_checkpoints
from auth.ledger.anchors import latest
from auth.ledger.chain import format_time
from hub.ledger_anchor import head_verifier
from hub.settings import ConfigError

FETCH_TIMEOUT = 10.0


@dataclass
class CheckpointReport:
    file: Path
    lines: int = 0  # whole lines in the file
    given: int = 0  # checkpoints from --checkpoint
    checked: int = 0  # signed checkpoints the chain agrees with
    pruned: int = 0  # signed checkpoints below the retention boundary
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    latest: HeadCheckpoint | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "file": str(self.file), "lines": self.lines, "given": self.given,
            "checked": self.checked, "pruned": self.pruned, "problems": self.problems,
            "warnings": self.warnings,
            "latest": None if self.latest is None else self.latest.to_record(),
        }


async def check_checkpoints(
    engine: AsyncEngine, *, file: Path, sources: list[str], keys: KeySet
) -> CheckpointReport:
    """Read, authenticate and hold the chain to every checkpoint; raises `ConfigError`
    when a given source cannot be read, `LedgerUnavailable` when the store cannot."""
    verifier = head_verifier(keys)
    report = CheckpointReport(file=file)
    reading = await asyncio.to_thread(CheckpointFile(file).read)
    report.lines = reading.whole_lines
    report.problems += [f"{file.name}: {problem}" for problem in reading.problems]
    if reading.torn_tail:
        report.warnings.append(f"{file.name}: an incomplete last line (a write cut short) was left out")
    records = [(f"{file.name} line {line.number}", line.record, True) for line in reading.lines]
    for source in sources:
        given = await load_source(source)
        report.given += len(given)
        records += [(label, record, False) for label, record in given]
    parsed: list[tuple[str, HeadCheckpoint, bool]] = []
    for label, record, from_file in records:
        try:
            parsed.append((label, HeadCheckpoint.from_record(record), from_file))
        except ValueError as exc:
            report.problems.append(f"{label}: not a ledger checkpoint ({exc})")
    in_file = [checkpoint for _, checkpoint, from_file in parsed if from_file]
    # A file whose every line links to the one before is vouched for by its last line's
    # signature: that line's signed `prev` fixes the bytes of every line before it. (So
    # lines signed by a key since removed stay checkable.) Otherwise each line on its own.
    vouched = (not reading.problems and len(in_file) == reading.whole_lines > 0
               and in_file[-1].signed_by(verifier))
    signed: list[tuple[str, HeadCheckpoint]] = []
    for label, checkpoint, from_file in parsed:
        if not (from_file and vouched) and not checkpoint.signed_by(verifier):
            report.problems.append(
                f"{label} (seq {checkpoint.seq}, {format_time(checkpoint.time)}): the signature does not "
                "verify with the hub's keys (forged or altered)"
            )
            continue
        signed.append((label, checkpoint))
    if not signed and not report.problems:
        report.warnings.append(
            f"no signed head checkpoints in {file}: a removal of the newest entries cannot be detected"
        )
    labels = {id(checkpoint): label for label, checkpoint in signed}
    check = await check_head_checkpoints(engine, [checkpoint for _, checkpoint in signed])
    report.checked, report.pruned = check.checked, check.pruned
    report.problems += [
        f"ROLLBACK: {labels[id(found.checkpoint)]} (seq {found.checkpoint.seq}, signed "
        f"{format_time(found.checkpoint.time)}): {found.detail}"
        for found in check.contradictions
    ]
    report.latest = latest([checkpoint for _, checkpoint in signed])
    return report


async def load_source(source: str) -> list[tuple[str, dict[str, Any]]]:
    """The checkpoint records in a URL, a file or a JSON text, each with a label."""
    if source.startswith(("http://", "https://")):
        return [(source, _object(await _fetch(source), source))]
    path = Path(source)
    if not source.lstrip().startswith("{") and path.is_file():
        text = path.read_bytes()
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) == 1:
            return [(source, _object(lines[0], source))]
        return [(f"{source} line {n}", _object(line, f"{source} line {n}")) for n, line in enumerate(lines, 1)]
    if source.lstrip().startswith("{"):
        return [("the checkpoint given", _object(source.encode(), "the checkpoint given"))]
    raise ConfigError(f"--checkpoint {source!r} is neither a URL, a file nor a JSON object")


async def load_keys(source: str) -> KeySet:
    """A JWKS document from a URL or a file."""
    if source.startswith(("http://", "https://")):
        data = await _fetch(source)
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise ConfigError(f"--jwks {source}: {exc.strerror or exc}") from exc
    try:
        return to_key_set(orjson.loads(data))
    except (orjson.JSONDecodeError, ValueError) as exc:
        raise ConfigError(f"--jwks {source}: not a JWKS document ({exc})") from exc


async def _fetch(url: str) -> bytes:
    try:
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT) as client:
            response = await client.get(url)
            response.raise_for_status()
    except httpx.HTTPError as exc:
        raise ConfigError(f"could not fetch {url}: {exc}") from exc
    return response.content


def _object(data: bytes, label: str) -> dict[str, Any]:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"{label}: not JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise ConfigError(f"{label}: not a JSON object")
    return value
