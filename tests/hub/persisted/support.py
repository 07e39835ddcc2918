"""Helpers for the persisted-operation tests: manifests, a policy with persisted-only
entries, requests by id and by hash."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

ME = "query Me { me { subject roles } }"
#: the analyst may not call `citizens`: absent from its schema
PEOPLE = "query People { citizens(first: 1) { edges { node { fullName } } } }"
TRACK = 'query Track($n: String!) { trackApplication(number: $n) { number status } }'


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def apollo_manifest(path: Path, *bodies: str) -> Path:
    operations = []
    for body in bodies:
        name = body.split()[1].split("(")[0].split("{")[0]
        operations.append({"id": sha(body), "body": body, "name": name, "type": body.split()[0]})
    path.write_text(json.dumps({"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}))
    return path


def relay_manifest(path: Path, entries: dict[str, str]) -> Path:
    path.write_text(json.dumps(entries))
    return path


def policy_file(path: Path, *, persisted_only_roles: tuple[str, ...] = (),
                persisted_only_clients: tuple[str, ...] = ()) -> Path:
    """The default policy with some roles and clients held to pushed operations."""
    data: dict[str, Any] = yaml.safe_load(resources.files("auth").joinpath("default_policy.yaml").read_text())
    for role in persisted_only_roles:
        data["roles"][role]["persisted_only"] = True
    if persisted_only_clients:
        data["persisted_only_clients"] = list(persisted_only_clients)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def by_hash(text: str, *, with_query: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(text)}}}
    if with_query:
        body["query"] = text
    return body


def code_of(response: Any) -> str:
    errors = response.json()["errors"]
    return str(errors[0]["extensions"]["code"])
