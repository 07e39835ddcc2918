"""The `hub` command: configuration, refusals with clear messages, tokens, the ledger."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from auth.ledger import LedgerDraft, append
from hub.cli import main
from hub.settings import ConfigError, load_settings
from hub.store import create_store_engine, create_tables


def test_settings_come_from_the_file_with_environment_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "simpul.toml"
    config.write_text(
        'max_page_size = 50\n[sources.licensing]\nbackend = "rest"\nurl = "http://127.0.0.1:9"\napi_key = "file"\n'
    )
    monkeypatch.setenv("SIMPUL_SOURCES__LICENSING__API_KEY", "from-env")
    monkeypatch.setenv("SIMPUL_MAX_PAGE_SIZE", "70")
    settings = load_settings(config)
    assert settings.max_page_size == 70
    assert settings.sources["licensing"].api_key.get_secret_value() == "from-env"
    assert settings.sources["licensing"].url == "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("max_page_size = 5000\n", "max_page_size", id="out-of-range"),
        pytest.param("[sources.registry]\nbackend = 'sql'\n", "unknown source", id="unknown-source"),
        pytest.param("max_page_size = \n", "invalid configuration", id="not-toml"),
        pytest.param("colour = 'blue'\n", "colour", id="unknown-key"),
        pytest.param("gc_thresholds = [0, 10, 10]\n", "gc_thresholds", id="collector-off"),
    ],
)
def test_a_bad_configuration_file_is_refused_with_its_reason(tmp_path: Path, content: str, message: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_settings(config)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param('metrics_token = "tooshort-SECRET"\n', id="metrics-token"),
        pytest.param('[notifications]\nurl = "http://127.0.0.1:9/"\nsecret = ["tooshort-SECRET"]\n', id="wrong-type"),
        pytest.param('[sources.licensing]\napi_key = ["tooshort-SECRET"]\n', id="api-key"),
    ],
)
def test_a_refused_value_is_not_echoed_in_the_message(tmp_path: Path, content: str) -> None:
    """A secret the settings refuse says where and why, never what it was."""
    config = tmp_path / "bad.toml"
    config.write_text(content)
    with pytest.raises(ConfigError) as refused:
        load_settings(config)
    assert "tooshort-SECRET" not in str(refused.value)
    assert "invalid configuration:" in str(refused.value)


def test_serve_with_a_missing_config_file_exits_2_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--config", str(tmp_path / "nope.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_broken_policy_file_stops_the_start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nroles:\n  clerk:\n    types:\n      Citizen: {fields: [nikk]}\n")
    config = tmp_path / "simpul.toml"
    config.write_text(f'policy_file = "{policy}"\n')
    assert main(["schema", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "policy.yaml" in err and "clerk" in err


def test_the_development_issuer_is_off_unless_enabled(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--role", "analyst", "--data-dir", str(tmp_path)]) == 2
    assert "development issuer is disabled" in capsys.readouterr().err


@pytest.mark.parametrize("role", ["superuser", "offline_access", "anonymous", "Analyst"])
def test_hub_token_refuses_a_role_the_policy_does_not_grant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, role: str
) -> None:
    monkeypatch.setenv("SIMPUL_ISSUER__DEVELOPMENT", "true")
    assert main(["token", "--role", role, "--data-dir", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no token
    assert f"unknown role(s) {role!r}" in captured.err
    known = captured.err.rsplit("knows: ", 1)[1].strip().split(", ")
    assert known == ["analyst", "auditor", "citizen", "complaint_officer", "kelurahan_officer",
                     "licensing_officer", "operator", "population_officer"]
    assert main(["token", "--role", "analyst", "--data-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.count(".") == 2  # a JWT


def test_hub_client_add_refuses_unknown_roles_and_registers_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = ["--data-dir", str(tmp_path)]
    assert main(["client", "add", "--role", "analyst", "--role", "uma_authorization", *data_dir]) == 2
    assert "'uma_authorization'" in capsys.readouterr().err
    assert main(["client", "list", *data_dir]) == 0
    assert capsys.readouterr().out.startswith("no service accounts")
    assert main(["client", "add", "--role", "analyst", *data_dir]) == 0
    assert "client_id:" in capsys.readouterr().out


def test_schema_for_a_role_holds_only_its_fields(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--role", "kelurahan_officer", "--data-dir", str(tmp_path)]) == 0
    sdl = capsys.readouterr().out
    assert "type Citizen" in sdl and "religion" not in sdl and "disability" not in sdl
    assert main(["schema", "--role", "nobody", "--data-dir", str(tmp_path)]) == 2


def _fill_ledger(data_dir: Path, count: int) -> Path:
    async def fill() -> None:
        engine = create_store_engine(f"sqlite+aiosqlite:///{data_dir / 'hub.db'}")
        try:
            await create_tables(engine)
            for i in range(count):
                await append(engine, [LedgerDraft(
                    request_id=f"r{i}", subject="officer", roles=["population_officer"], purpose="population-service",
                    document_hash="0" * 64, record_type="Citizen", record_key=f"14710801019{i:05d}", fields=["fullName"],
                )])
        finally:
            await engine.dispose()

    asyncio.run(fill())
    return data_dir / "hub.db"


def test_audit_verify_passes_an_intact_ledger_and_fails_an_altered_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = _fill_ledger(tmp_path, 5)
    assert main(["audit", "verify", "--data-dir", str(tmp_path)]) == 0
    assert "5 entries verified" in capsys.readouterr().out
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE ledger_entries SET purpose = 'statistics' WHERE seq = 3")
    assert main(["audit", "verify", "--data-dir", str(tmp_path)]) == 1
    assert "seq 3" in capsys.readouterr().out


def test_an_unknown_argument_of_a_command_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """Only `hub bench` hands the rest of the line on (to the benchmark's own parser)."""
    with pytest.raises(SystemExit) as exited:
        main(["schema", "--no-such-option"])
    assert exited.value.code == 2
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err
