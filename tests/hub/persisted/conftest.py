from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from hub.app import create_app
from hub.identity import development_issuer
from hub.settings import Settings
from tests.support.hardening import Headers, guarded_sources, memory_settings
from tests.hub.persisted.support import policy_file
from tests.support.sample_world import build_world


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The analyst role and the client `svc-frozen` run pushed operations only; pushed
    operations are read from the store on every request (no cache), so a removal shows."""
    policy = policy_file(tmp_path / "policy.yaml", persisted_only_roles=("analyst",),
                         persisted_only_clients=("svc-frozen",))
    return memory_settings(tmp_path, policy_file=policy, persisted_queries={"operation_cache_seconds": 0})


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, sources=guarded_sources(build_world()))) as test_client:
        yield test_client


@pytest.fixture
def token(settings: Settings) -> Callable[..., Headers]:
    issuer = development_issuer(settings)

    def make(role: str, **claims: str) -> Headers:
        bearer = issuer.issue(subject=f"t-{role}", roles=[role], department="test", **claims)  # type: ignore[arg-type]
        return {"Authorization": f"Bearer {bearer}"}

    return make


@pytest.fixture
def hub_args(settings: Settings) -> Callable[..., list[str]]:
    """`hub` arguments acting on the test's store, with its policy."""
    config = settings.data_dir / "simpul.toml"
    config.write_text(f'store_url = "{settings.store_url}"\npolicy_file = "{settings.policy_file}"\n')

    def args(*words: str) -> list[str]:
        return [*words, "--config", str(config), "--data-dir", str(settings.data_dir)]
    return args
