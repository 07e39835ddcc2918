"""While a hub runs, threads coming back from SQLite wait at most the configured switch
interval for the GIL (see hub.switching); the process's own interval comes back after."""

from __future__ import annotations

import sys

import pytest
from starlette.testclient import TestClient

from hub.app import create_app
from hub.settings import Settings


def test_the_hub_sets_the_switch_interval_while_it_runs_and_puts_it_back(settings: Settings) -> None:
    before = sys.getswitchinterval()
    with TestClient(create_app(settings.model_copy(update={"switch_interval_ms": 0.25}))) as client:
        assert client.get("/healthz").status_code == 200
        assert sys.getswitchinterval() == 0.00025
    assert sys.getswitchinterval() == before


def test_an_interval_that_is_not_positive_is_a_configuration_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from hub.settings import ConfigError, load_settings

    config = tmp_path / "hub.toml"
    config.write_text("switch_interval_ms = 0\n")
    with pytest.raises(ConfigError, match="switch_interval_ms"):
        load_settings(config)
