"""What docker/compose.yaml runs in the simpul image, run here as plain processes: the
same entrypoints, commands, environment and health checks as Docker Compose resolves
them, with only the container's addresses and paths mapped to this machine's (a fresh
PostgreSQL database, a private Redis, free ports, a temp dir). If the compose file or the
Dockerfile changes a command, this test runs the changed command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.compose import ROOT, dockerfile_stages, exec_form, instruction, resolved_compose
from tests.support.pg_database import postgres_database
from tests.support.redis_server import PrivateRedis, free_port

pytestmark = pytest.mark.postgres

IMAGE = "simpul:latest"
COMPOSE_HOSTS = ("@postgres:", "redis://redis:", "//licensing:", "//complaints:", "hub-1:", "hub-2:")


class Local:
    """How the containers' addresses and paths read on this machine."""

    def __init__(self, tmp_path: Path, store_url: str, redis_url: str) -> None:
        self.tmp = tmp_path
        self.ports = {"licensing": {"8001": free_port()}, "complaints": {"8002": free_port()},
                      "hub-1": {"8000": free_port(), "9100": free_port()},
                      "hub-2": {"8000": free_port(), "9100": free_port()}}
        self.common = [
            ("/data/sample", str(tmp_path / "sample")), ("/data/hub", str(tmp_path / "hub")),
            ("/etc/simpul/regions.yaml", str(ROOT / "hub" / "reference" / "regions.yaml")),
            ("0.0.0.0", "127.0.0.1"), ("redis://redis:6379/0", redis_url),
            ("http://licensing:8001", f"http://127.0.0.1:{self.ports['licensing']['8001']}"),
            ("http://complaints:8002", f"http://127.0.0.1:{self.ports['complaints']['8002']}"),
        ]
        self.store_url = store_url

    def text(self, service: str, value: str) -> str:
        if value.startswith("postgresql+asyncpg://") and "@postgres:5432/" in value:
            return self.store_url
        for container, here in self.common:
            value = value.replace(container, here)
        ports = self.ports.get(service, {})
        if value in ports:  # a port argument or SIMPUL_METRICS_PORT
            return str(ports[value])
        for container, here in ports.items():
            value = value.replace(f"127.0.0.1:{container}/", f"127.0.0.1:{here}/")
        return value

    def command(self, service: str, argv: list[str]) -> list[str]:
        program = {"hub": [sys.executable, "-m", "hub.cli"], "python": [sys.executable]}[argv[0]]
        mapped = program + [self.text(service, a) for a in argv[1:]]
        assert not any(host in a for a in mapped for host in COMPOSE_HOSTS), mapped
        return mapped

    def environment(self, service: str, env: dict[str, str]) -> dict[str, str]:
        mapped = {k: self.text(service, str(v)) for k, v in env.items()}
        assert not any(host in v for v in mapped.values() for host in COMPOSE_HOSTS), mapped
        keep = {k: v for k, v in os.environ.items() if not k.startswith("SIMPUL_")}
        return {**keep, **mapped, "PYTHONPATH": str(ROOT)}


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def image_defaults() -> tuple[list[str], list[str], list[str]]:
    final = dockerfile_stages()[-1]
    return (exec_form(instruction(final, "ENTRYPOINT")[0]), exec_form(instruction(final, "CMD")[0]),
            exec_form(instruction(final, "HEALTHCHECK")[0]))


def wait_healthy(check: list[str], env: dict[str, str], process: subprocess.Popen[bytes], name: str,
                 log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{name} exited with {process.returncode}:\n{log.read_text()[-3000:]}"
        if subprocess.run(check, env=env, capture_output=True, timeout=30).returncode == 0:
            return
        time.sleep(0.5)
    raise AssertionError(f"{name} not healthy within 120 s:\n{log.read_text()[-3000:]}")


def test_every_command_of_the_compose_file_runs_as_a_plain_process(tmp_path: Path, redis: PrivateRedis) -> None:
    services: dict[str, Any] = resolved_compose()["services"]
    ours = {name for name, s in services.items() if s.get("image") == IMAGE}
    assert ours == {"sample-data", "licensing", "complaints", "migrate", "hub-1", "hub-2"}
    entrypoint, default_command, healthcheck = image_defaults()
    (tmp_path / "sample").mkdir()
    (tmp_path / "hub").mkdir()
    running: dict[str, subprocess.Popen[bytes]] = {}
    logs: list[Any] = []
    with postgres_database("simpul_compose") as store_url:
        local = Local(tmp_path, store_url, redis.url)

        def argv(name: str) -> list[str]:
            service = services[name]
            return local.command(name, (service.get("entrypoint") or entrypoint) + (service.get("command") or
                                                                                     default_command))

        def env(name: str) -> dict[str, str]:
            return local.environment(name, services[name].get("environment") or {})

        def start(name: str) -> subprocess.Popen[bytes]:
            logs.append((tmp_path / f"{name}.log").open("wb"))
            running[name] = subprocess.Popen(argv(name), env=env(name), stdout=logs[-1],
                                             stderr=subprocess.STDOUT, cwd=tmp_path)
            return running[name]

        def once(name: str) -> None:
            done = subprocess.run(argv(name), env=env(name), capture_output=True, text=True, timeout=300,
                                  cwd=tmp_path)
            assert done.returncode == 0, f"{name}: {done.stdout[-2000:]}\n{done.stderr[-3000:]}"

        try:
            once("sample-data")
            for name in ("licensing", "complaints"):
                check = [local.text(name, a) for a in services[name]["healthcheck"]["test"][1:]]
                wait_healthy(local.command(name, check), env(name), start(name), name, tmp_path / f"{name}.log")
            once("migrate")
            for name in ("hub-1", "hub-2"):
                check = local.command(name, [local.text(name, a) for a in healthcheck])
                wait_healthy(check, env(name), start(name), name, tmp_path / f"{name}.log")

            for name in ("hub-1", "hub-2"):
                url = f"http://127.0.0.1:{local.ports[name]['8000']}"
                answer = httpx.post(f"{url}/graphql", json={"query": "{ me { anonymous } }"}, timeout=30)
                assert answer.json() == {"data": {"me": {"anonymous": True}}}, answer.text
                ready = httpx.get(f"{url}/readyz", timeout=30)
                assert ready.status_code == 200, ready.text
                metrics = httpx.get(f"http://127.0.0.1:{local.ports[name]['9100']}/metrics", timeout=10)
                assert "simpul_http_requests_total" in metrics.text  # what Prometheus scrapes
            for name in ("hub-1", "hub-2"):
                running[name].send_signal(signal.SIGTERM)
                assert running[name].wait(60) in (0, -signal.SIGTERM)
        finally:
            for process in running.values():
                if process.poll() is None:
                    process.kill()
                    process.wait(10)
            for log in logs:
                log.close()
