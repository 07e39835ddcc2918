"""A flood of automatic persisted queries through `/graphql`: distinct documents from
anyone keep the store within its bounds, the flood shows at /metrics, and the operations
a client pushed are never evicted by it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from hub.settings import Settings
from tests.hub.persisted.support import TRACK, by_hash, policy_file, sha
from tests.hub.persisted.test_requests import push
from tests.support.hardening import memory_settings

PUBLIC = {"X-Client-Name": "public-site"}
MAX_ENTRIES = 10


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return memory_settings(tmp_path, policy_file=policy_file(tmp_path / "policy.yaml"), persisted_queries={
        "operation_cache_seconds": 0, "apq_max_entries": MAX_ENTRIES, "apq_max_document_bytes": 1024,
        "apq_max_total_bytes": 2048})


def _counted(client: TestClient, outcome: str) -> float:
    found = re.search(rf'simpul_apq_registrations_total{{outcome="{outcome}"}} ([0-9.e+]+)',
                      client.get("/metrics").text)
    return float(found.group(1)) if found else 0.0


def test_a_flood_of_registrations_keeps_the_bounds_and_the_pushed_operations(
        client: TestClient, hub_args: Callable[..., list[str]], tmp_path: Path) -> None:
    push(hub_args, tmp_path, "public-site", TRACK, roles=("anonymous",))
    for i in range(60):  # the anonymous public, each document another
        document = f"{{ a{i}: __typename }}" + " " * (i * 3)
        answer = client.post("/graphql", json=by_hash(document, with_query=True))
        assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
    apq = client.app.state.persisted_documents.apq  # type: ignore[attr-defined]
    assert client.portal.call(apq.count) <= MAX_ENTRIES  # type: ignore[union-attr]
    assert client.portal.call(apq.stored_bytes) <= 2048  # type: ignore[union-attr]
    assert _counted(client, "kept") == 60 and _counted(client, "evicted") >= 50
    # the pushed operation survived the flood, by its id and by Apollo's hash
    by_id = client.post("/graphql", json={"documentId": sha(TRACK), "variables": {"n": "x"}}, headers=PUBLIC)
    assert by_id.json() == {"data": {"trackApplication": None}}, by_id.text
    hashed = client.post("/graphql", json={**by_hash(TRACK), "variables": {"n": "x"}}, headers=PUBLIC)
    assert hashed.json() == {"data": {"trackApplication": None}}, hashed.text
    # too long to keep: it runs, is not kept, and is counted
    long = "{ __typename }" + " " * 1100
    assert client.post("/graphql", json=by_hash(long, with_query=True)).json() == {"data": {"__typename": "Query"}}
    assert client.post("/graphql", json=by_hash(long)).json()["errors"][0]["extensions"]["code"] == (
        "PERSISTED_QUERY_NOT_FOUND")
    assert _counted(client, "too_large") == 1


def test_the_total_bound_must_hold_one_document() -> None:
    from hub.settings import PersistedQuerySettings

    with pytest.raises(ValueError, match="at least one document"):
        PersistedQuerySettings(apq_max_document_bytes=4096, apq_max_total_bytes=2048)
