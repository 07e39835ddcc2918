"""Reading the operation manifests clients emit.

    Apollo   persisted-query manifest (`generate-persisted-query-manifest`):
             {"format": "apollo-persisted-query-manifest", "version": 1,
              "operations": [{"id", "body", "name", "type"}, ...]}
    Relay    persisted queries (`relay-compiler` with `persistConfig`):
             {"<id>": "<document text>", ...}

Each document must hold exactly one operation (fragments besides it are fine), so that
a request naming its id needs no `operationName`; an Apollo entry's `name` and `type`
must be the operation's. Every problem raises `ManifestError` listing all of them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import GraphQLSyntaxError, OperationDefinitionNode, parse

APOLLO_FORMAT = "apollo-persisted-query-manifest"
#: an operation id: printable ASCII without spaces (hashes, or names like `Citizen:3`)
OPERATION_ID = re.compile(r"[!-~]{1,200}")
#: a client name: as a service client's id (`hub client add`), or an app's name
CLIENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,63}")
MAX_MANIFEST_OPERATIONS = 10_000
MAX_BODY_CHARACTERS = 1024 * 1024


class ManifestError(ValueError):
    """A manifest that cannot be pushed; `problems` lists every reason."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True, slots=True)
class ManifestOperation:
    id: str
    body: str
    name: str | None
    type: str  # query | mutation | subscription

    @property
    def sha256(self) -> str:
        return sha256_hex(self.body)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_manifest(raw: bytes | str) -> list[ManifestOperation]:
    """The operations of an Apollo or Relay manifest (see the module docstring)."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ManifestError([f"not JSON: {exc.msg}"]) from exc
    if not isinstance(data, dict):
        raise ManifestError(["expected a JSON object: an Apollo persisted-query manifest or Relay's {id: text}"])
    entries = _apollo_entries(data) if "format" in data or "operations" in data else _relay_entries(data)
    if len(entries) > MAX_MANIFEST_OPERATIONS:
        raise ManifestError([f"{len(entries)} operations; at most {MAX_MANIFEST_OPERATIONS} in one manifest"])
    problems: list[str] = []
    seen: dict[str, ManifestOperation] = {}
    for where, entry in entries:
        operation = _operation(where, entry, problems)
        if operation is None:
            continue
        earlier = seen.get(operation.id)
        if earlier is not None and earlier.body != operation.body:
            problems.append(f"{where}: id {operation.id!r} is given twice with different documents")
        seen[operation.id] = operation
    if problems:
        raise ManifestError(problems)
    if not seen:
        raise ManifestError(["the manifest holds no operations"])
    return list(seen.values())


def _apollo_entries(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    if data.get("format") != APOLLO_FORMAT:
        raise ManifestError([f"format: expected {APOLLO_FORMAT!r}, got {data.get('format')!r}"])
    if data.get("version") != 1:
        raise ManifestError([f"version: expected 1, got {data.get('version')!r}"])
    operations = data.get("operations")
    if not isinstance(operations, list):
        raise ManifestError(["operations: expected a list"])
    entries = []
    for index, entry in enumerate(operations):
        if not isinstance(entry, dict):
            raise ManifestError([f"operations[{index}]: expected an object with id, body, name, type"])
        entries.append((f"operations[{index}]", entry))
    return entries


def _relay_entries(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    entries = []
    for key, text in data.items():
        if not isinstance(text, str):
            raise ManifestError([f"{key!r}: expected the document text (a Relay manifest maps ids to text)"])
        entries.append((repr(key)[:80], {"id": key, "body": text}))
    return entries


def _operation(where: str, entry: dict[str, Any], problems: list[str]) -> ManifestOperation | None:
    op_id, body = entry.get("id"), entry.get("body")
    if not isinstance(op_id, str) or not OPERATION_ID.fullmatch(op_id):
        problems.append(f"{where}: id must be 1-200 printable characters without spaces, got {str(op_id)[:80]!r}")
        return None
    where = f"{where} ({op_id[:80]})" if where.startswith("operations[") else where
    if not isinstance(body, str) or not body.strip():
        problems.append(f"{where}: body must be the document text")
        return None
    if len(body) > MAX_BODY_CHARACTERS:
        problems.append(f"{where}: body has {len(body)} characters; at most {MAX_BODY_CHARACTERS}")
        return None
    try:
        document = parse(body, no_location=True)
    except GraphQLSyntaxError as exc:
        problems.append(f"{where}: not a GraphQL document: {exc.message}")
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        problems.append(f"{where}: a persisted document holds exactly one operation, this one {len(operations)}")
        return None
    operation = operations[0]
    name = operation.name.value if operation.name else None
    kind = operation.operation.value
    for key, actual in (("name", name), ("type", kind)):
        given = entry.get(key)
        if given is not None and given != actual:
            problems.append(f"{where}: {key} {given!r} is not the document's ({actual!r})")
            return None
    return ManifestOperation(id=op_id, body=body, name=name, type=kind)


__all__ = [
    "APOLLO_FORMAT",
    "CLIENT_NAME",
    "ManifestError",
    "ManifestOperation",
    "read_manifest",
    "sha256_hex",
]
