"""Apollo Federation v2 subgraph mode (`federation = true`, schema.federation).

The hub runs as its own process (`hub serve` with SIMPUL_FEDERATION=true): subgraph mode
puts the entity keys on the types for the whole process, as it does in production. Checked
here: `_entities` answers as the root fields do — refused without a purpose, ledgered
under the caller, row rules and root-field grants applied, malformed or oversized
representation lists refused with BAD_USER_INPUT — and Simpul's subgraph composes with
another subgraph under a real composition library (@theguild/federation-composition,
installed with npm; skipped only where node or npm is missing)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.demo import DemoSources, write_demo_config
from hub.identity import development_issuer
from hub.settings import Settings, load_settings
from schema.extensions.shape import MAX_ALIASES
from tests.support.hub_process import ROOT, HubProcess, hub_serve
from tests.support.ledger_entries import ledger_entries

EXAMPLE = ROOT / "examples" / "federation"
COMPOSITION = "@theguild/federation-composition@0.27.0"
ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) { __typename
  ... on Citizen { nik fullName } ... on Application { number status } } }"""


@pytest.fixture(scope="module")
def subgraph(stack: DemoSources, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubProcess, Settings]]:
    data_dir = tmp_path_factory.mktemp("subgraph")
    config = write_demo_config(stack)
    with hub_serve("--config", str(config), "--data-dir", str(data_dir), log=data_dir / "hub.log",
                   env={"SIMPUL_FEDERATION": "true"}) as hub:
        yield hub, load_settings(config, data_dir=data_dir)
        hub.stop()


def headers(settings: Settings, role: str, purpose: str | None = None, **claims: str) -> dict[str, str]:
    token = development_issuer(settings).issue(subject=f"t-{role}", roles=[role], **claims)
    return {"Authorization": f"Bearer {token}", **({"X-Access-Purpose": purpose} if purpose else {})}


def post(hub: HubProcess, query: str, head: dict[str, str], **variables: Any) -> dict[str, Any]:
    response = httpx.post(f"{hub.url}/graphql", json={"query": query, "variables": variables}, headers=head, timeout=30)
    assert response.status_code in (200, 400), response.text
    return response.json()


def citizens(hub: HubProcess, settings: Settings) -> list[dict[str, Any]]:
    body = post(hub, "{ citizens(first: 60) { edges { node { nik fullName kelurahan { code } } } } }",
                headers(settings, "population_officer", "population-service"))
    return [e["node"] for e in body["data"]["citizens"]["edges"]]


ledger = ledger_entries


def code(body: dict[str, Any]) -> str:
    return body["errors"][0]["extensions"]["code"]


def test_the_service_sdl_of_a_role_declares_the_entities_it_may_look_up(subgraph) -> None:  # type: ignore[no-untyped-def]
    hub, settings = subgraph
    sdl = post(hub, "{ _service { sdl } }", headers(settings, "population_officer"))["data"]["_service"]["sdl"]
    assert 'type Citizen @key(fields: "nik"' in sdl and 'type Family @key(fields: "number"' in sdl
    assert "union _Entity = Application | Citizen | Family\n" in sdl  # this role reads no complaint
    assert "specs.apollo.dev/federation/v2.9" in sdl


def test_entities_without_a_purpose_are_refused_and_nothing_is_ledgered(subgraph) -> None:  # type: ignore[no-untyped-def]
    hub, settings = subgraph
    person = citizens(hub, settings)[0]
    before = len(ledger(settings, record_key=person["nik"]))
    body = post(hub, ENTITIES, headers(settings, "population_officer"),
                r=[{"__typename": "Citizen", "nik": person["nik"]}])
    assert code(body) == "PURPOSE_REQUIRED", body
    assert person["fullName"] not in json.dumps(body)
    assert len(ledger(settings, record_key=person["nik"])) == before


def test_entities_answer_as_the_root_field_and_are_ledgered_under_the_caller(subgraph) -> None:  # type: ignore[no-untyped-def]
    hub, settings = subgraph
    person = citizens(hub, settings)[1]
    officer = headers(settings, "kelurahan_officer", "population-service", kelurahan=person["kelurahan"]["code"])
    body = post(hub, ENTITIES, officer, r=[{"__typename": "Citizen", "nik": person["nik"]}])
    assert "errors" not in body, body
    assert body["data"] == {"_entities": [{"__typename": "Citizen", "nik": person["nik"], "fullName": person["fullName"]}]}
    root = post(hub, "query($nik: String!) { citizen(nik: $nik) { nik fullName } }", officer, nik=person["nik"])
    assert root["data"]["citizen"] == {"nik": person["nik"], "fullName": person["fullName"]}
    entries = ledger(settings, record_key=person["nik"], subject="t-kelurahan_officer")
    assert len(entries) == 2 and all(e.purpose == "population-service" and e.record_type == "Citizen" for e in entries)
    assert "fullName" in entries[-1].fields


def test_row_rules_hold_and_an_unknown_key_reads_as_a_refused_one(subgraph) -> None:  # type: ignore[no-untyped-def]
    hub, settings = subgraph
    people = citizens(hub, settings)
    here = people[0]["kelurahan"]["code"]
    elsewhere = next(p for p in people if p["kelurahan"]["code"] != here)
    officer = headers(settings, "kelurahan_officer", "population-service", kelurahan=here)
    unknown = elsewhere["nik"][:-4] + ("9999" if not elsewhere["nik"].endswith("9999") else "9998")
    answers = [post(hub, ENTITIES, officer, r=[{"__typename": "Citizen", "nik": nik}]) for nik in (elsewhere["nik"], unknown)]
    for body in answers:
        assert body["data"] == {"_entities": [None]} and code(body) == "FORBIDDEN", body
    assert answers[0]["errors"][0]["message"] == answers[1]["errors"][0]["message"]
    assert elsewhere["fullName"] not in json.dumps(answers)


def test_a_role_gets_no_entity_it_may_not_look_up_by_its_root_field(subgraph) -> None:  # type: ignore[no-untyped-def]
    hub, settings = subgraph
    person = citizens(hub, settings)[0]
    # the licensing officer sees citizens only as applicants: no Citizen in its _Entity union
    body = post(hub, ENTITIES, headers(settings, "licensing_officer", "permit-verification"),
                r=[{"__typename": "Citizen", "nik": person["nik"]}])
    assert code(body) == "GRAPHQL_VALIDATION_FAILED", body
    narrow = post(hub, "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
                  headers(settings, "licensing_officer", "permit-verification"),
                  r=[{"__typename": "Citizen", "nik": person["nik"]}])
    assert narrow["data"] == {"_entities": [None]} and code(narrow) == "FORBIDDEN", narrow
    anonymous = post(hub, ENTITIES, {}, r=[{"__typename": "Citizen", "nik": person["nik"]}])
    assert code(anonymous) == "GRAPHQL_VALIDATION_FAILED" and person["fullName"] not in json.dumps(anonymous)


@pytest.mark.parametrize("representations", [
    [{"__typename": "Citizen"}],
    [{"__typename": "Citizen", "nik": 3201}],
    [{"__typename": "Citizen", "nik": "x", "fullName": "y"}],
    [{"__typename": "Kelurahan", "code": "1471081001"}],
    [{"__typename": "Query"}],
    ["Citizen"],
    [{"__typename": "Citizen", "nik": "not-a-nik"}],
])
def test_a_malformed_representation_is_bad_user_input(subgraph, representations: list) -> None:  # type: ignore[no-untyped-def]
    hub, settings = subgraph
    body = post(hub, ENTITIES, headers(settings, "population_officer", "population-service"), r=representations)
    assert code(body) == "BAD_USER_INPUT", body


def test_no_more_representations_than_one_document_may_make_root_lookups(subgraph) -> None:  # type: ignore[no-untyped-def]
    """Each representation is a root lookup: a request makes no more of them through
    `_entities` than through aliased root fields (MAX_ALIASES), nor more than a page."""
    hub, settings = subgraph
    most = min(settings.max_page_size, MAX_ALIASES)
    person = {"__typename": "Citizen", "nik": "1471080101800001"}
    officer = headers(settings, "population_officer", "population-service")
    body = post(hub, ENTITIES, officer, r=[person] * (most + 1))
    assert code(body) == "BAD_USER_INPUT" and body["data"] is None, body
    assert f"at most {most} representations" in body["errors"][0]["message"]
    body = post(hub, ENTITIES, officer, r=[person] * most)
    assert len(body["data"]["_entities"]) == most, body


@pytest.fixture(scope="session")
def composer() -> Path:
    """The composition library, installed with npm into a cache directory once."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed to run the federation composition library (not installed here)")
    cache = Path(os.environ.get("SIMPUL_NPM_CACHE_DIR", Path(tempfile.gettempdir()) / "simpul-federation-composition"))
    cache.mkdir(parents=True, exist_ok=True)
    if not (cache / "node_modules" / "@theguild" / "federation-composition").is_dir():
        installed = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(cache),
                                    COMPOSITION, "graphql@16"], capture_output=True, text=True, timeout=600)
        assert installed.returncode == 0, installed.stderr[-3000:]
    shutil.copy(EXAMPLE / "compose.mjs", cache / "compose.mjs")
    return cache / "compose.mjs"


def test_simpul_composes_with_another_subgraph(composer: Path, tmp_path: Path) -> None:
    """`hub schema` in subgraph mode (the full schema, as a gateway composes it) beside
    the posyandu subgraph of examples/federation."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SIMPUL_FEDERATION": "true", "SIMPUL_DATA_DIR": str(tmp_path)}
    sdl = subprocess.run([sys.executable, "-c", "import sys; from hub.cli import main; sys.exit(main(['schema']))"],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert sdl.returncode == 0, sdl.stderr
    (tmp_path / "simpul.graphql").write_text(sdl.stdout)
    composed = subprocess.run(["node", str(composer), f"simpul={tmp_path / 'simpul.graphql'}",
                               f"posyandu={EXAMPLE / 'posyandu.graphql'}"],
                              capture_output=True, text=True, cwd=composer.parent, timeout=300)
    assert composed.returncode == 0, composed.stderr
    supergraph = composed.stdout
    assert 'POSYANDU @join__graph(name: "posyandu"' in supergraph and 'SIMPUL @join__graph(name: "simpul"' in supergraph
    assert ('type Citizen @join__type(graph: POSYANDU, key: "nik", resolvable: false) '
            '@join__type(graph: SIMPUL, key: "nik")') in supergraph
    for entity, key in (("Family", "number"), ("Application", "number"), ("Complaint", "number")):
        assert f'type {entity} @join__type(graph: SIMPUL, key: "{key}")' in supergraph
    assert "_entities" not in supergraph and "_service" not in supergraph
