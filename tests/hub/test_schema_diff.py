"""`hub schema diff OLD [NEW]`: breaking changes fail (exit 1), dangerous ones are
listed, and the current build stands in for NEW."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub.cli import main
from hub.schemas import load_access, role_sdl
from hub.settings import Settings

OLD = '''
type Query { citizen(nik: String!): Citizen  kelurahan: [String!]! }
type Citizen { nik: String!  fullName: String!  religion: String  status: Status! }
enum Status { ALIVE DECEASED }
'''


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_a_removed_field_is_breaking_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new = OLD.replace("  religion: String", "")
    assert main(["schema", "diff", write(tmp_path, "old.graphql", OLD), write(tmp_path, "new.graphql", new)]) == 1
    out = capsys.readouterr().out
    assert "BREAKING   FIELD_REMOVED" in out and "Citizen.religion was removed." in out
    assert "1 breaking, 0 dangerous" in out


def test_dangerous_changes_are_listed_without_failing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new = OLD.replace("ALIVE DECEASED", "ALIVE DECEASED MOVED_AWAY").replace(
        "citizen(nik: String!)", "citizen(nik: String!, asOf: String)")
    assert main(["schema", "diff", write(tmp_path, "old.graphql", OLD), write(tmp_path, "new.graphql", new),
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["breaking"] == []
    kinds = {change["type"] for change in report["dangerous"]}
    assert {"VALUE_ADDED_TO_ENUM", "OPTIONAL_ARG_ADDED"} <= kinds


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        pytest.param(lambda s: s.replace("fullName: String!", "fullName: Int!"), "FIELD_CHANGED_KIND", id="type"),
        pytest.param(lambda s: s.replace(" DECEASED", ""), "VALUE_REMOVED_FROM_ENUM", id="enum-value"),
        pytest.param(lambda s: s.replace("citizen(nik: String!)", "citizen(nik: String!, why: String!)"),
                     "REQUIRED_ARG_ADDED", id="required-argument"),
        pytest.param(lambda s: s.replace("enum Status { ALIVE DECEASED }", "").replace("status: Status!", ""),
                     "TYPE_REMOVED", id="type-removed"),
    ],
)
def test_other_breaking_changes_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str], change, kind: str) -> None:  # type: ignore[no-untyped-def]
    args = ["schema", "diff", write(tmp_path, "old.graphql", OLD), write(tmp_path, "new.graphql", change(OLD)), "--json"]
    assert main(args) == 1
    assert kind in {c["type"] for c in json.loads(capsys.readouterr().out)["breaking"]}


def test_without_new_the_current_build_of_a_role_is_compared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=tmp_path)
    current = role_sdl(load_access(settings)[0], "analyst")
    saved = write(tmp_path, "analyst.graphql", current)
    assert main(["schema", "diff", saved, "--role", "analyst", "--data-dir", str(tmp_path)]) == 0
    assert "0 breaking, 0 dangerous change(s)" in capsys.readouterr().out
    # a release that showed the analyst a field the current policy hides breaks for it
    older = write(tmp_path, "older.graphql", current.replace("type Query {", "type Query {\n  retired: Int", 1))
    assert main(["schema", "diff", older, "--role", "analyst", "--data-dir", str(tmp_path)]) == 1
    assert "Query.retired was removed." in capsys.readouterr().out
    assert main(["schema", "diff", saved, "--role", "wizard", "--data-dir", str(tmp_path)]) == 2
    assert "unknown role 'wizard'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text",
    [pytest.param("type Query {", id="syntax"), pytest.param("type Query { a: Missing }", id="unknown-type")],
)
def test_a_file_that_is_not_a_schema_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    assert main(["schema", "diff", write(tmp_path, "old.graphql", OLD), write(tmp_path, "bad.graphql", text)]) == 2
    assert "not a GraphQL schema" in capsys.readouterr().err
    assert main(["schema", "diff", str(tmp_path / "missing.graphql"), write(tmp_path, "x.graphql", OLD)]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_hub_schema_still_prints_a_roles_sdl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--role", "anonymous", "--data-dir", str(tmp_path)]) == 0
    assert "trackApplication" in capsys.readouterr().out
