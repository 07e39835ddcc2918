"""Fixtures for the hardening tests: the hub over in-memory sources (fast, exact) and
development tokens."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.support.hardening import Headers, guarded_sources, memory_settings
from tests.support.sample_world import World, build_world
from hub.app import create_app
from hub.identity import development_issuer
from hub.settings import Settings


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return memory_settings(tmp_path)


@pytest.fixture
def client(settings: Settings, world: World) -> Iterator[TestClient]:
    with TestClient(create_app(settings, sources=guarded_sources(world))) as test_client:
        yield test_client


@pytest.fixture
def token(settings: Settings) -> Callable[..., Headers]:
    issuer = development_issuer(settings)

    def make(role: str, **claims: str) -> Headers:
        bearer = issuer.issue(subject=f"t-{role}", roles=[role], department="test", **claims)
        return {"Authorization": f"Bearer {bearer}"}

    return make
