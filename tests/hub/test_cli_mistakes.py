"""The `hub` command refuses mistakes clearly: every option explains itself, roles and
purposes are listed where they are accepted, `hub token` asks for the claims a role's
row rules need (derived from the policy), several `--role`s give several roles, and
commands run without a configuration or a store say where they looked and create
nothing."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
from pathlib import Path

import pytest

from auth.policy import Policy
from hub.cli import build_parser, main
from hub.cli_help import default_purposes, default_roles
from hub.schemas import load_access
from hub.settings import load_settings
from hub.store import create_store_engine, create_tables
from hub.token_cli import CLAIM_OPTIONS, required_claims

CLAIM_VALUES = {claim: value for claim, (_, value) in CLAIM_OPTIONS.items()}


def _parsers(parser: argparse.ArgumentParser, path: str = "hub") -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found += _parsers(child, f"{path} {name}")
    return found


def test_every_option_of_every_command_has_help_text() -> None:
    checked = 0
    for path, parser in _parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            name = "/".join(action.option_strings) or action.dest
            assert action.help and action.help is not argparse.SUPPRESS and action.help.strip(), f"{path} {name}"
            checked += 1
    assert checked > 40


@pytest.mark.parametrize("command", [["token"], ["client", "add"], ["schema"], ["operations", "push"]])
def test_roles_are_listed_where_a_role_is_accepted(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for role in default_roles():
        assert role in text, (command, role)


def test_the_listed_roles_and_purposes_are_the_default_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy, purposes = load_access(load_settings(None, data_dir=tmp_path))
    assert set(default_roles()) == policy.grantable_roles
    assert set(default_purposes()) == set(purposes.purposes)
    with pytest.raises(SystemExit):
        main(["client", "add", "--help"])
    text = " ".join(capsys.readouterr().out.split()).replace("- ", "-")  # (argparse wraps at hyphens)
    assert all(code in text for code in purposes.purposes), text


# -- hub token: claims, roles ------------------------------------------------------------


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    return load_access(load_settings(None, data_dir=tmp_path))[0]


def test_the_claims_a_role_needs_come_from_its_row_rules(policy: Policy) -> None:
    assert set(required_claims(policy, ["kelurahan_officer"])) == {"kelurahan"}
    assert "Citizen" in required_claims(policy, ["kelurahan_officer"])["kelurahan"]
    assert set(required_claims(policy, ["citizen"])) == {"nik"}
    for role in ("population_officer", "licensing_officer", "complaint_officer", "analyst", "auditor", "operator"):
        assert required_claims(policy, [role]) == {}, role
    # a role holding another that sees every row needs nothing more
    assert required_claims(policy, ["kelurahan_officer", "population_officer"]).keys() <= {"kelurahan"}


def _payload(token: str) -> dict:
    body = token.strip().split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


@pytest.fixture
def issuing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMPUL_ISSUER__DEVELOPMENT", "true")


@pytest.mark.usefixtures("issuing")
def test_every_role_of_the_policy_gets_a_token_only_with_the_claims_it_needs(
    tmp_path: Path, policy: Policy, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = ["--data-dir", str(tmp_path)]
    for role in sorted(policy.grantable_roles):
        needed = required_claims(policy, [role])
        if needed:
            assert main(["token", "--role", role, *data_dir]) == 2, role
            captured = capsys.readouterr()
            assert captured.out == ""
            for claim in needed:
                assert CLAIM_OPTIONS[claim][0] in captured.err and "see no row" in captured.err, captured.err
        claims = [arg for claim in needed for arg in (f"--{claim}", CLAIM_VALUES[claim])]
        assert main(["token", "--role", role, *claims, *data_dir]) == 0, capsys.readouterr().err
        payload = _payload(capsys.readouterr().out)
        assert payload["roles"] == [role]
        for claim in needed:
            assert payload[claim] == CLAIM_VALUES[claim]


@pytest.mark.usefixtures("issuing")
def test_a_claim_rule_of_a_custom_policy_is_required_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Not a hand list: a role added by configuration, whose rows are one kelurahan's."""
    text = (Path(__file__).resolve().parents[2] / "auth" / "default_policy.yaml").read_text()
    clerk = ("  rt_clerk:\n    description: An RT clerk - names of one kelurahan's residents.\n    types:\n"
             "      Citizen:\n        fields: [fullName]\n        rows: own_kelurahan\n"
             "    query: [citizens]\n    mutation: []\n")
    (tmp_path / "policy.yaml").write_text(text.replace("\n  anonymous:\n", "\n" + clerk + "  anonymous:\n", 1))
    config = tmp_path / "simpul.toml"
    config.write_text(f'policy_file = "{tmp_path / "policy.yaml"}"\n')
    assert main(["token", "--role", "rt_clerk", "--config", str(config), "--data-dir", str(tmp_path)]) == 2
    assert "--kelurahan CODE (its row rules on Citizen read it)" in capsys.readouterr().err
    assert main(["token", "--role", "rt_clerk", "--kelurahan", "1471081001", "--config", str(config),
                 "--data-dir", str(tmp_path)]) == 0


@pytest.mark.usefixtures("issuing")
def test_a_kelurahan_outside_the_region_is_refused_with_the_regions_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "--role", "kelurahan_officer", "--kelurahan", "3171010001",
                 "--data-dir", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "not a kelurahan of this region" in captured.err
    assert "1471081001 (" in captured.err  # the region's, with their names


@pytest.mark.usefixtures("issuing")
def test_repeating_role_gives_a_token_with_each_role(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--role", "analyst", "--role", "auditor", "--role", "analyst",
                 "--data-dir", str(tmp_path)]) == 0
    payload = _payload(capsys.readouterr().out)
    assert payload["roles"] == ["analyst", "auditor"] and payload["sub"] == "demo-analyst+auditor"
    # the claims of every role are needed
    assert main(["token", "--role", "analyst", "--role", "citizen", "--data-dir", str(tmp_path)]) == 2
    assert "--nik NIK" in capsys.readouterr().err


# -- without a configuration or a store ------------------------------------------------------


def test_hub_token_without_a_configuration_says_where_it_looked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "--role", "analyst", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "development issuer is disabled" in err
    assert "--config (not given)" in err and str(tmp_path / "hub.toml") in err


@pytest.mark.parametrize("command", [["audit", "verify"], ["audit", "verify", "--json"],
                                     ["audit", "prune", "--days", "30"]])
def test_audit_without_a_store_says_where_it_looked_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    assert main([*command, "--data-dir", str(data_dir)]) == 2
    captured = capsys.readouterr()
    assert "0 entries" not in captured.out + captured.err and "intact" not in captured.out
    assert f"no hub store at {data_dir / 'hub.db'}" in captured.err
    assert str(data_dir / "hub.toml") in captured.err and "nothing was created" in captured.err
    assert list(data_dir.iterdir()) == []  # no store, no issuer keys


def test_audit_verify_with_a_configuration_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "simpul.toml"
    config.write_text(f'store_url = "sqlite+aiosqlite:///{tmp_path / "elsewhere.db"}"\n')
    assert main(["audit", "verify", "--config", str(config), "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"no hub store at {tmp_path / 'elsewhere.db'}" in err and f"configuration: {config}" in err
    assert not (tmp_path / "elsewhere.db").exists()


def test_client_list_says_when_there_is_no_client(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = ["--data-dir", str(tmp_path)]
    assert main(["client", "list", *data_dir]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"no service accounts: no hub store at {tmp_path / 'hub.db'}")
    assert not (tmp_path / "hub.db").exists()

    async def empty_store() -> None:
        engine = create_store_engine(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
        await create_tables(engine)
        await engine.dispose()

    asyncio.run(empty_store())
    assert main(["client", "list", *data_dir]) == 0
    assert capsys.readouterr().out.startswith("no service accounts registered; add one with `hub client add")
    assert main(["client", "add", "--role", "analyst", *data_dir]) == 0
    client_id = capsys.readouterr().out.split()[1]
    assert main(["client", "list", *data_dir]) == 0
    assert capsys.readouterr().out.startswith(client_id)


def test_client_add_lists_the_purposes_open_to_its_roles(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = ["--data-dir", str(tmp_path)]
    assert main(["client", "add", "--role", "analyst", "--purpose", "audit", *data_dir]) == 2
    err = capsys.readouterr().err
    assert "--purpose 'audit' is not a purpose open to the client's roles" in err
    assert "open to analyst: statistics" in err
    assert not (tmp_path / "hub.db").exists()  # nothing stored
    assert main(["client", "add", "--role", "analyst", "--purpose", "statistics", *data_dir]) == 0
