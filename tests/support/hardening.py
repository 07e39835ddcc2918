"""Helpers shared by the hardening tests (a uniquely named module: test directories
share one import namespace)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from connectors.resilience import ResiliencePolicy, guarded
from tests.support.sample_world import World
from hub.settings import Settings
from schema.sources import Sources

Headers = dict[str, str]


def memory_settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(
        data_dir=tmp_path,
        store_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
        issuer={"development": True},
        metrics_refresh_seconds=0,
        # no background reads of the sources (change feeds): what the sources see is the requests'
        **{"events": {"read_feeds": False}, **overrides},  # type: ignore[arg-type]
    )


def guarded_sources(world: World, policy: ResiliencePolicy | None = None) -> Sources:
    policy = policy or ResiliencePolicy(timeout=1.0)
    return Sources(*(guarded(s, policy) for s in world.sources()))  # type: ignore[arg-type]


def assert_healthy(client: TestClient) -> None:
    """The hub still answers its probe and an ordinary query."""
    assert client.get("/healthz").json() == {"status": "ok"}
    answer = client.post("/graphql", json={"query": "{ me { anonymous } }"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"data": {"me": {"anonymous": True}}}


def assert_one_error_shape(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response is `{"errors": [{"message", "extensions": {"code", "requestId", ...}}]}`
    as JSON, with the request id of the X-Request-ID header; its error is returned."""
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["errors"] and len(body["errors"]) == 1, body
    error = body["errors"][0]
    assert set(error) == {"message", "extensions"} and isinstance(error["message"], str)
    assert error["extensions"]["code"] == code, error
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    return error
