"""`/metrics` behind a token, and on a port of its own (hub.metrics_access)."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from hub.app import create_app
from hub.demo import DemoSources, write_demo_config
from hub.settings import ConfigError, Settings, load_settings
from tests.support.hub_process import free_port, hub_serve

TOKEN = "s3cret-metrics-token-0123"


def test_the_main_port_serves_metrics_to_anyone_by_default(client: TestClient) -> None:
    answer = client.get("/metrics")
    assert answer.status_code == 200 and "simpul_http_requests" in answer.text


def test_with_a_token_metrics_want_it_and_refuse_anything_else(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"metrics_token": SecretStr(TOKEN)}))) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                        {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": f"bearer {TOKEN[:-1]}"}):
            refused = client.get("/metrics", headers=headers)
            assert refused.status_code == 401, headers
            assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            assert "simpul_" not in refused.text and TOKEN not in refused.text
        answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 200 and "simpul_http_requests" in answer.text
        assert client.get("/healthz").status_code == 200  # the other routes are untouched


def test_a_short_token_is_refused_at_start() -> None:
    with pytest.raises(ConfigError, match="metrics_token: at least 16"):
        load_settings(metrics_token="short")


@pytest.mark.parametrize("token", [None, TOKEN], ids=["open", "with-token"])
def test_on_a_port_of_its_own_the_main_port_stops_serving_metrics(settings: Settings, token: str | None) -> None:
    app = create_app(settings.model_copy(update={"metrics_port": 0, "metrics_token": token and SecretStr(token)}))
    with TestClient(app) as client:
        port = app.state.metrics_port
        assert isinstance(port, int) and port > 0
        assert client.get("/healthz").status_code == 200
        main_port = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert main_port.status_code == 404 and main_port.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = httpx.get(f"http://127.0.0.1:{port}/metrics", headers=headers, timeout=5)
        assert answer.status_code == 200
        assert 'simpul_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in answer.text
        if token:
            assert httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).status_code == 401
        assert httpx.get(f"http://127.0.0.1:{port}/graphql", timeout=5).status_code == 404  # metrics only
    with pytest.raises(httpx.ConnectError):  # stopped with the app
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)


def test_a_metrics_port_already_taken_stops_the_start_with_a_message(settings: Settings) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        app = create_app(settings.model_copy(update={"metrics_port": port}))
        with pytest.raises(ConfigError, match=f"metrics_port: cannot listen on 127.0.0.1:{port}"), TestClient(app):
            pass


def test_hub_serve_with_metrics_port_serves_metrics_there_only(stack: DemoSources, tmp_path: Path) -> None:
    metrics_port = free_port()
    config = write_demo_config(stack)
    args = ("--config", str(config), "--data-dir", str(tmp_path), "--metrics-port", str(metrics_port))
    with hub_serve(*args, log=tmp_path / "hub.log") as hub:
        assert httpx.get(f"{hub.url}/metrics", timeout=5).status_code == 404
        answer = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5)
        assert answer.status_code == 200 and "simpul_http_requests_total" in answer.text
        assert hub.stop() == -signal.SIGTERM  # stopped by the signal, as uvicorn reports it
