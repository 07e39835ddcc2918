"""`hub check`: one line per check, and the exit code of the first that fails, for each
way a deployment can be broken (hub.check's table)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from hub.check import CheckResult, run_checks
from hub.cli import main
from hub.demo import DEMO_CONFIG, DemoSources, write_demo_config
from hub.identity import hub_issuer
from hub.migrations import upgrade_store
from hub.settings import ConfigError, Settings, load_settings
from hub.store import create_store_engine
from tests.support.pg_database import postgres_database


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(settings: Settings | Exception, timeout: float = 2.0) -> tuple[int, list[CheckResult]]:
    results: list[CheckResult] = []

    def load() -> Settings:
        if isinstance(settings, Exception):
            raise settings
        return settings

    code = asyncio.run(run_checks(load, timeout=timeout, report=results.append))
    return code, results


def _settings(stack: DemoSources, data_dir: Path, **overrides: object) -> Settings:
    """The demo's sources; the hub's data (store, keys) in `data_dir`."""
    return load_settings(write_demo_config(stack), data_dir=data_dir, **overrides)


def _migrate(settings: Settings) -> None:
    async def run() -> None:
        engine = create_store_engine(settings.resolved_store_url)
        try:
            await upgrade_store(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())


@pytest.fixture
def healthy(stack: DemoSources, tmp_path: Path) -> Settings:
    """The demo's sources, a migrated store and the hub's keys: everything passes."""
    settings = _settings(stack, tmp_path, redis_url="redis://127.0.0.1:6379/0")
    hub_issuer(settings)  # the keys a first start creates
    _migrate(settings)
    return settings


@pytest.mark.redis
def test_a_healthy_deployment_passes_every_check_with_one_line_each(healthy: Settings) -> None:
    code, results = _run(healthy)
    assert code == 0
    assert [r.check for r in results] == [
        "configuration", "policy", "issuer", "store",
        "source population", "source licensing", "source complaints", "redis",
    ]
    assert all(r.status == "ok" for r in results), results


def test_an_invalid_configuration_exits_2_and_skips_the_rest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "hub.toml"
    config.write_text('store_url = "sqlite+aiosqlite:///x.db"\nno_such_setting = 1\n')
    assert main(["check", "--config", str(config), "--data-dir", str(tmp_path)]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("fail  configuration") and "no_such_setting" in lines[0]
    assert all(line.startswith("skip") for line in lines[1:]) and len(lines) == 6


def test_a_missing_source_configuration_exits_2() -> None:
    code, results = _run(ConfigError("no configuration for source(s) licensing"))
    assert code == 2 and results[0].status == "fail" and "licensing" in results[0].detail


def test_a_broken_policy_exits_3(healthy: Settings, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("roles:\n  nobody_knows: {types: {NoSuchType: {fields: all}}}\n")
    code, results = _run(healthy.model_copy(update={"policy_file": policy}))
    assert code == 3
    (line,) = [r for r in results if r.check == "policy"]
    assert line.status == "fail" and str(policy) in line.detail


def test_unreadable_signing_keys_exit_4(healthy: Settings) -> None:
    key_file = healthy.data_dir / "issuer" / "issuer-keys.json"
    key_file.write_text(json.dumps({"keys": [{"kty": "EC", "crv": "P-256", "x": "broken"}], "current": "x"}))
    code, results = _run(healthy)
    assert code == 4
    (line,) = [r for r in results if r.check == "issuer"]
    assert line.status == "fail" and "issuer-keys.json" in line.detail


def test_an_unreachable_identity_provider_exits_4(healthy: Settings) -> None:
    issuer = healthy.issuer.model_copy(update={
        "external_issuer": "https://sso.example", "jwks_uri": f"http://127.0.0.1:{_closed_port()}/certs"})
    code, results = _run(healthy.model_copy(update={"issuer": issuer}))
    assert code == 4
    assert [r.status for r in results if r.check == "issuer"] == ["ok", "fail"]  # own keys fine, the IdP not
    assert "cannot be fetched" in [r.detail for r in results if r.check == "issuer"][1]


def test_no_keys_yet_is_a_warning_and_nothing_is_created(stack: DemoSources, tmp_path: Path) -> None:
    settings = _settings(stack, tmp_path)
    code, results = _run(settings)
    assert code == 0
    statuses = {r.check: r.status for r in results}
    assert statuses["issuer"] == "warn" and statuses["store"] == "warn" and statuses["redis"] == "skip"
    assert not (tmp_path / "issuer").exists() and not (tmp_path / "hub.db").exists()


def test_a_store_behind_warns_when_the_start_migrates_and_exits_5_when_it_refuses(
    stack: DemoSources, tmp_path: Path
) -> None:
    settings = _settings(stack, tmp_path)
    hub_issuer(settings)
    (tmp_path / "hub.db").touch()  # an empty store: behind
    code, results = _run(settings)
    assert code == 0 and [r.status for r in results if r.check == "store"] == ["warn"]
    code, results = _run(settings.model_copy(update={"store_migrations": "refuse"}))
    (line,) = [r for r in results if r.check == "store"]
    assert code == 5 and line.status == "fail" and "run `hub migrate`" in line.detail


def test_a_store_from_a_newer_release_exits_5(healthy: Settings) -> None:
    async def bump() -> None:
        engine = create_store_engine(healthy.resolved_store_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
        finally:
            await engine.dispose()

    asyncio.run(bump())
    code, results = _run(healthy)
    (line,) = [r for r in results if r.check == "store"]
    assert code == 5 and line.status == "fail" and "newer release" in line.detail


@pytest.fixture
def unreachable_postgres() -> Iterator[str]:
    yield f"postgresql+asyncpg://simpul:secret-password@127.0.0.1:{_closed_port()}/simpul"


def test_an_unreachable_store_exits_5_without_its_password(healthy: Settings, unreachable_postgres: str) -> None:
    code, results = _run(healthy.model_copy(update={"store_url": unreachable_postgres}))
    (line,) = [r for r in results if r.check == "store"]
    assert code == 5 and line.status == "fail" and "cannot read the store" in line.detail
    assert all("secret-password" not in r.detail for r in results)


@pytest.mark.postgres
def test_a_current_postgres_store_passes(healthy: Settings) -> None:
    with postgres_database("check") as url:
        settings = healthy.model_copy(update={"store_url": url, "redis_url": None})
        _migrate(settings)
        code, results = _run(settings)
        assert code == 0 and [r.status for r in results if r.check == "store"] == ["ok"]


def test_a_source_that_does_not_answer_exits_6(healthy: Settings) -> None:
    sources = dict(healthy.sources)
    sources["licensing"] = sources["licensing"].model_copy(update={"url": f"http://127.0.0.1:{_closed_port()}"})
    code, results = _run(healthy.model_copy(update={"sources": sources, "redis_url": None}))
    statuses = {r.check: r.status for r in results}
    assert code == 6
    assert statuses["source licensing"] == "fail"
    assert statuses["source population"] == statuses["source complaints"] == "ok"


def test_an_unreachable_redis_exits_7(healthy: Settings) -> None:
    code, results = _run(healthy.model_copy(update={"redis_url": f"redis://127.0.0.1:{_closed_port()}/0"}))
    (line,) = [r for r in results if r.check == "redis"]
    assert code == 7 and line.status == "fail" and "PING" in line.detail


def test_the_first_failure_in_table_order_sets_the_exit_code(healthy: Settings) -> None:
    sources = dict(healthy.sources)
    sources["licensing"] = sources["licensing"].model_copy(update={"url": f"http://127.0.0.1:{_closed_port()}"})
    broken = healthy.model_copy(update={"sources": sources, "redis_url": f"redis://127.0.0.1:{_closed_port()}/0",
                                        "store_migrations": "refuse"})
    (healthy.data_dir / "hub.db").unlink()
    (healthy.data_dir / "hub.db").touch()
    code, results = _run(broken)
    assert code == 5  # store (5) before source (6) and redis (7)
    assert {r.check for r in results if r.status == "fail"} == {"store", "source licensing", "redis"}


def test_hub_check_prints_a_line_per_check(
    healthy: Settings, stack: DemoSources, capsys: pytest.CaptureFixture[str]
) -> None:
    config = stack.data_dir / DEMO_CONFIG
    code = main(["check", "--config", str(config), "--data-dir", str(healthy.data_dir), "--timeout", "2"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0, lines
    assert [line.split()[0] for line in lines] == ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "skip"]
