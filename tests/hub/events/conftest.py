from __future__ import annotations

from collections.abc import Iterator
import sqlite3
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from hub.app import create_app
from hub.demo import DemoSources, demo_settings
from hub.identity import development_issuer
from hub.settings import EventSettings, Settings
from tests.hub.events.support import SourceDriver, driver, wait_until
from tests.hub.stack import demo_stack

FAST_EVENTS = EventSettings(poll_seconds=0.1, lease_seconds=2)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSources]:
    data_dir = tmp_path_factory.mktemp("events-demo")
    with demo_stack(data_dir) as running:
        reopen_applications(data_dir / "licensing.db")
        yield running


def reopen_applications(path: Path) -> None:
    """The sample history is mostly finished; open a few personal applications again so
    that tests can move them round (PEMERIKSAAN_BERKAS → BERKAS_TIDAK_LENGKAP → DIAJUKAN)."""
    with sqlite3.connect(path) as db:
        db.execute("UPDATE permohonan SET status = 'DIAJUKAN', tgl_selesai = NULL WHERE no_permohonan IN "
                   "(SELECT no_permohonan FROM permohonan WHERE jenis_pemohon = 'PERORANGAN' "
                   "ORDER BY no_permohonan LIMIT 10)")


@pytest.fixture
def settings(stack: DemoSources, tmp_path: Path) -> Settings:
    return demo_settings(stack, store_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}", events=FAST_EVENTS)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        wait_until(lambda: test_client.app.state.events.readers.positioned)  # changes from now on are events
        yield test_client


@pytest.fixture
def sources(stack: DemoSources) -> Iterator[SourceDriver]:
    with driver(stack) as d:
        yield d


@pytest.fixture
def token(settings: Settings):  # type: ignore[no-untyped-def]
    issuer = development_issuer(settings)

    def make(role: str, ttl: int | None = None, **claims: str) -> dict[str, str]:
        extra = {"ttl_seconds": ttl} if ttl is not None else {}
        return {"Authorization": "Bearer " + issuer.issue(subject=f"t-{role}", roles=[role], department="test",
                                                          **claims, **extra)}

    return make


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A socket test that waits for an event that never comes fails in minutes, not at the suite's limit."""
    for item in items:
        if item.path.parent == Path(__file__).parent and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(120))
