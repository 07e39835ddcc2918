"""docker/: the Dockerfile passes hadolint and is built as promised (slim base, no build
tools or pip in the final image, a user without privileges, a health check, every
product package copied); Docker Compose validates the compose file and refuses it without
its secrets; the proxy, Prometheus and the Grafana dashboard name what the hub serves."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path

import yaml

from hub.metrics import HubMetrics
from hub.pool_metrics import watch_pools
from hub.redis_health import RedisHealth
from tests.support.compose import (
    COMPOSE,
    DOCKER,
    DOCKERFILE,
    ENV_EXAMPLE,
    ROOT,
    compose_config,
    dockerfile_stages,
    exec_form,
    instruction,
    resolved_compose,
    tool,
)


def test_the_dockerfile_passes_hadolint() -> None:
    done = subprocess.run([tool("hadolint"), "--failure-threshold", "info", str(DOCKERFILE)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_final_image_is_slim_unprivileged_checked_and_without_build_tools() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2, "multi-stage"
    final = stages[-1]
    base = instruction(final, "FROM")[0]
    assert re.fullmatch(r"python:3\.\d+-slim(-\w+)?", base), base
    user = instruction(final, "USER")[-1]
    assert re.fullmatch(r"[1-9][0-9]{3,}:[1-9][0-9]{3,}", user), user  # numeric, not root
    health = instruction(final, "HEALTHCHECK")[0]
    assert "/healthz" in health and exec_form(health)[0] == "python"
    runs = " ".join(instruction(final, "RUN"))
    for build_tool in ("gcc", "build-essential", "apt-get install", "pip install"):
        assert build_tool not in runs, build_tool
    assert "pip uninstall" in runs  # the base image's pip goes too
    copied_from_build = [a for a in instruction(final, "COPY") if a.startswith("--from=")]
    assert copied_from_build == ["--from=build /opt/simpul /opt/simpul"]  # the venv, nothing else of the build
    assert exec_form(instruction(final, "ENTRYPOINT")[0]) == ["hub"]


def test_the_image_gets_every_package_the_project_ships() -> None:
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*") for pattern in include}
    copied = {args.split()[0] for args in instruction(dockerfile_stages()[0], "COPY")}
    assert packages <= copied, packages - copied
    assert {"pyproject.toml", "README.md"} <= {a for args in instruction(dockerfile_stages()[0], "COPY")
                                                for a in args.split()}
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert not packages & set(ignored)


def test_docker_compose_validates_the_compose_file() -> None:
    config = resolved_compose()
    services = config["services"]
    assert {"postgres", "redis", "hub-1", "hub-2", "proxy", "licensing", "complaints", "prometheus",
            "grafana"} <= set(services)
    for hub in ("hub-1", "hub-2"):
        env = services[hub]["environment"]
        assert env["SIMPUL_STORE_URL"].startswith("postgresql+asyncpg://") and "@postgres:5432/" in env["SIMPUL_STORE_URL"]
        assert env["SIMPUL_REDIS_URL"] == "redis://redis:6379/0"
        assert services[hub]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_the_compose_file_is_refused_without_its_secrets(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("\n".join(line for line in ENV_EXAMPLE.read_text().splitlines()
                             if not line.startswith("POSTGRES_PASSWORD=")) + "\n")
    done = compose_config(env)
    assert done.returncode != 0 and "POSTGRES_PASSWORD" in done.stderr


def test_the_proxy_and_prometheus_reach_the_hub_instances_where_they_listen() -> None:
    services = resolved_compose()["services"]
    hubs = sorted(n for n in services if n.startswith("hub-"))
    for name in hubs:
        command = services[name]["command"]
        assert command[command.index("--port") + 1] == "8000"
    caddy = (DOCKER / "Caddyfile").read_text()
    assert re.search(r"reverse_proxy " + " ".join(f"{h}:8000" for h in hubs), caddy)
    assert "health_uri /healthz" in caddy
    prometheus = yaml.safe_load((DOCKER / "prometheus.yml").read_text())
    port = services[hubs[0]]["environment"]["SIMPUL_METRICS_PORT"]
    targets = prometheus["scrape_configs"][0]["static_configs"][0]["targets"]
    assert targets == [f"{h}:{port}" for h in hubs]


def test_the_instances_see_each_caller_behind_the_proxy_and_only_through_it() -> None:
    """Per-address rate limits count callers: the instances trust the proxy's
    X-Forwarded-For, which is safe only while the proxy is their one way in."""
    services = resolved_compose()["services"]
    for name in (n for n in services if n.startswith("hub-")):
        assert services[name]["environment"]["FORWARDED_ALLOW_IPS"] == "*"
        assert not services[name].get("ports"), f"{name} publishes a port beside the proxy"


def test_every_metric_on_the_grafana_dashboard_is_one_the_hub_exports() -> None:
    metrics = HubMetrics()
    RedisHealth(registry=metrics.registry)
    watch_pools(metrics, ())  # the sources' HTTP pools
    exported: set[str] = set()
    for family in metrics.registry.collect():
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "gauge": [""]}[family.type]
        exported |= {family.name + s for s in suffixes}
    dashboard = json.loads((DOCKER / "grafana" / "dashboards" / "simpul-hub.json").read_text())
    used = {name for panel in dashboard["panels"] for target in panel["targets"]
            for name in re.findall(r"\bsimpul_[a-z_]+", target["expr"])}
    assert used and used <= exported, used - exported
    provisioning = yaml.safe_load((DOCKER / "grafana" / "provisioning" / "dashboards" / "simpul.yml").read_text())
    mounted = {v.split(":")[1] for v in yaml.safe_load(COMPOSE.read_text())["services"]["grafana"]["volumes"]}
    assert provisioning["providers"][0]["options"]["path"] in mounted
