"""`hub operations push|list|remove|check`: manifests in Apollo's and Relay's formats,
validated for every role that may run them before anything is stored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hub.cli import main
from hub.schemas import load_access, role_sdl
from hub.settings import Settings
from tests.hub.persisted.support import ME, PEOPLE, TRACK, apollo_manifest, relay_manifest, sha

Args = Callable[..., list[str]]


def listed(hub_args: Args, capsys: pytest.CaptureFixture[str]) -> list[list[str]]:
    capsys.readouterr()
    assert main(hub_args("operations", "list")) == 0
    return [line.split("\t") for line in capsys.readouterr().out.splitlines()]


def test_a_push_fails_on_an_operation_invalid_for_a_role_and_stores_nothing(
    tmp_path: Path, hub_args: Args, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = apollo_manifest(tmp_path / "m.json", ME, PEOPLE)
    assert main(hub_args("operations", "push", "dashboard", str(manifest), "--role", "analyst",
                         "--role", "population_officer")) == 1
    err = capsys.readouterr().err
    assert "push refused, nothing stored" in err
    # the one problem: `citizens` is not in the analyst's schema; the population officer may run both
    problem_lines = [line for line in err.splitlines() if line.startswith("  ")]
    assert len(problem_lines) == 1, err
    assert sha(PEOPLE) in problem_lines[0] and "(People)" in problem_lines[0]
    assert "role analyst" in problem_lines[0] and "Cannot query field 'citizens'" in problem_lines[0]
    assert listed(hub_args, capsys) == []


def test_a_push_fails_on_an_operation_over_the_roles_document_limits(
    tmp_path: Path, hub_args: Args, capsys: pytest.CaptureFixture[str]
) -> None:
    fine = "query Fine { trackApplication(number: \"1\") { history { status } number } }"
    aliases = "query Many { " + " ".join(f"a{i}: me {{ subject }}" for i in range(40)) + " }"
    manifest = relay_manifest(tmp_path / "r.json", {"fine": fine, "many": aliases})
    assert main(hub_args("operations", "push", "public-site", str(manifest), "--role", "anonymous")) == 1
    err = capsys.readouterr().err
    assert "many (Many) for role anonymous" in err and "aliases" in err
    assert "fine" not in err  # the valid one is not listed


def test_pushed_operations_are_listed_and_removed(
    tmp_path: Path, hub_args: Args, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = apollo_manifest(tmp_path / "m.json", ME, TRACK)
    assert main(hub_args("operations", "push", "public-site", str(manifest), "--role", "anonymous",
                         "--role", "citizen")) == 0
    assert "2 operation(s) valid for role anonymous, role citizen; 2 added" in capsys.readouterr().out
    rows = listed(hub_args, capsys)
    assert sorted((r[0], r[1], r[2], r[3], r[4]) for r in rows) == sorted([
        ("public-site", sha(ME), "query", "Me", "roles=anonymous,citizen"),
        ("public-site", sha(TRACK), "query", "Track", "roles=anonymous,citizen"),
    ])
    # pushing again changes nothing; another document under a known id is refused
    assert main(hub_args("operations", "push", "public-site", str(manifest), "--role", "anonymous",
                         "--role", "citizen")) == 0
    assert "0 added, 2 already there" in capsys.readouterr().out
    clash = relay_manifest(tmp_path / "clash.json", {sha(ME): "query Me { me { subject } }"})
    assert main(hub_args("operations", "push", "public-site", str(clash), "--role", "anonymous")) == 2
    assert "an id keeps its document" in capsys.readouterr().err
    assert main(hub_args("operations", "remove", "public-site", sha(ME))) == 0
    assert [r[1] for r in listed(hub_args, capsys)] == [sha(TRACK)]
    assert main(hub_args("operations", "remove", "public-site", "--all")) == 0
    assert listed(hub_args, capsys) == []


def test_a_service_accounts_operations_are_checked_for_its_roles_together(
    tmp_path: Path, hub_args: Args, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(hub_args("client", "add", "--role", "analyst", "--role", "auditor")) == 0
    client_id = capsys.readouterr().out.split()[1]
    # the ledger is the auditor's, service metrics the analyst's: valid only for both together
    ledger = "query Ledger { accessLedger(first: 1) { seq } }"
    metrics = "query Metrics { me { roles } serviceMetrics { asOf } }"
    manifest = relay_manifest(tmp_path / "r.json", {"ledger": ledger, "metrics": metrics})
    assert main(hub_args("operations", "push", client_id, str(manifest))) == 0, capsys.readouterr().err
    assert "valid for roles analyst+auditor" in capsys.readouterr().out
    assert main(hub_args("operations", "push", client_id, str(manifest), "--role", "citizen")) == 2
    assert "is a service account" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("[]", "expected a JSON object", id="not-an-object"),
        pytest.param("{", "not JSON", id="not-json"),
        pytest.param('{"format": "other", "version": 1, "operations": []}', "format", id="unknown-format"),
        pytest.param('{"a": "query A { me { subject } } query B { me { roles } }"}', "exactly one operation",
                     id="two-operations"),
        pytest.param('{"a": "query A { me { "}', "not a GraphQL document", id="syntax"),
        pytest.param('{"a b": "{ me { subject } }"}', "id must be", id="bad-id"),
        pytest.param('{"format": "apollo-persisted-query-manifest", "version": 1, "operations": '
                     '[{"id": "x", "body": "query A { me { subject } }", "name": "B", "type": "query"}]}',
                     "name 'B' is not the document's", id="wrong-name"),
    ],
)
def test_a_malformed_manifest_is_refused_with_its_reason(
    tmp_path: Path, hub_args: Args, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    manifest = tmp_path / "bad.json"
    manifest.write_text(content)
    assert main(hub_args("operations", "push", "app", str(manifest), "--role", "anonymous")) == 2
    assert message in capsys.readouterr().err


def test_a_push_names_unknown_roles_and_needs_roles_for_an_app(
    tmp_path: Path, hub_args: Args, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = apollo_manifest(tmp_path / "m.json", ME)
    assert main(hub_args("operations", "push", "app", str(manifest))) == 2
    assert "--role" in capsys.readouterr().err
    assert main(hub_args("operations", "push", "app", str(manifest), "--role", "wizard")) == 2
    assert "unknown role(s) 'wizard'" in capsys.readouterr().err


def test_operations_check_against_a_new_schema_lists_those_it_breaks(
    tmp_path: Path, settings: Settings, hub_args: Args, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = apollo_manifest(tmp_path / "m.json", ME, TRACK)
    assert main(hub_args("operations", "push", "public-site", str(manifest), "--role", "anonymous")) == 0
    current = role_sdl(load_access(settings)[0], "anonymous")
    same = tmp_path / "same.graphql"
    same.write_text(current)
    capsys.readouterr()
    assert main(hub_args("operations", "check", "--schema", str(same))) == 0
    assert "2 operation(s) valid against" in capsys.readouterr().out
    assert main(hub_args("operations", "check")) == 0  # the current policy's schemas
    # the next release drops Principal.roles (what `me` answers): the operation that selects it breaks, the other does not
    assert "  roles: [String!]!\n" in current
    new = tmp_path / "new.graphql"
    new.write_text(current.replace("  roles: [String!]!\n", "", 1))
    assert main(hub_args("operations", "check", "--schema", str(new))) == 1
    err = capsys.readouterr().err
    assert f"public-site/{sha(ME)} (Me) for {new}: Cannot query field 'roles' on type 'Principal'" in err
    assert sha(TRACK) not in err
    broken = tmp_path / "broken.graphql"
    broken.write_text("type Query {")
    assert main(hub_args("operations", "check", "--schema", str(broken))) == 2
    assert "not a GraphQL schema" in capsys.readouterr().err
