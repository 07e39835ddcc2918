from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from hub.app import create_app
from hub.demo import DemoSources, demo_settings
from hub.identity import development_issuer
from hub.settings import Settings
from tests.hub.stack import demo_stack


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """`hub serve` run in-process (hub.log_format.configure_logging) sets the root logger's
    handler and level for the server; the next test starts from what was there before."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSources]:
    with demo_stack(tmp_path_factory.mktemp("demo")) as running:
        yield running


@pytest.fixture
def settings(stack: DemoSources, tmp_path: Path) -> Settings:
    """Demo settings on the shared sample services, with a fresh hub store per test."""
    return demo_settings(stack, store_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def token(settings: Settings):  # type: ignore[no-untyped-def]
    issuer = development_issuer(settings)

    def make(role: str, **claims: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {issuer.issue(subject=f't-{role}', roles=[role], department='test', **claims)}"}

    return make
