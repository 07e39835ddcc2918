"""The plug-in as the hub sees it once installed (run in a fresh interpreter by
../test_discovered_end_to_end.py, with the plug-in's entry points on the path)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from importlib import resources
from starlette.testclient import TestClient

from aid_rows import write_export
from auth.ledger import query_entries, verify
from connectors import build_source
from connectors.plugins import source_plugins
from hub.app import create_app
from hub.environment import build_sources
from hub.identity import development_issuer
from hub.settings import ConfigError, Settings
from hub.store import create_store_engine
from schema.plugins import schema_plugins
from schema.sources import Sources
from simpul_village_aid.csv_source import CsvAidSource
from tests.support.sample_world import SIDOMULYO_BARAT, SIMPANG_BARU, build_world

WORLD = build_world()
HEADS = [c for c in WORLD.citizens if c.family_relationship.name == "HEAD"]
OWN = next(h for h in HEADS if h.kelurahan_code == SIMPANG_BARU)
OTHER = next(h for h in HEADS if h.kelurahan_code == SIDOMULYO_BARAT)
QUERY = """query($nik: String!) { aidEnrolments(nik: $nik) {
  number recipientNik programme status monthlyAmount since kelurahan { code name }
  recipient { nik fullName } } }"""


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return write_export(tmp_path / "bansos.csv", WORLD.citizens)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", store_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
                    metrics_refresh_seconds=0, issuer={"development": True})  # type: ignore[arg-type]


@pytest.fixture
def client(settings: Settings, export: Path) -> Iterator[TestClient]:
    aid = build_source("aid", {"backend": "csv", "path": str(export)})
    with TestClient(create_app(settings, sources=Sources(*WORLD.sources(), extra={"aid": aid}))) as test_client:
        yield test_client


def headers(settings: Settings, role: str, purpose: str | None = "population-service", **claims: str) -> dict[str, str]:
    token = development_issuer(settings).issue(subject=f"t-{role}", roles=[role], **claims)
    return {"Authorization": f"Bearer {token}", **({"X-Access-Purpose": purpose} if purpose else {})}


def post(client: TestClient, query: str, head: dict[str, str], **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables}, headers=head)
    assert response.status_code in (200, 400), response.text
    return response.json()


def ledger(settings: Settings, record_type: str) -> list:
    async def read() -> list:
        engine = create_store_engine(settings.resolved_store_url)
        try:
            assert (await verify(engine)).ok
            return await query_entries(engine, record_type=record_type, limit=100)
        finally:
            await engine.dispose()
    return asyncio.run(read())


def test_the_plugin_is_discovered_through_its_entry_points() -> None:
    assert set(source_plugins()) == {"aid"}
    assert [p.name for p in schema_plugins()] == ["aid"]


def test_the_source_is_built_from_settings_and_an_installed_plugin_must_be_configured(export: Path, tmp_path: Path) -> None:
    base = {name: {"backend": "memory"} for name in ("population", "licensing", "complaints")}
    configured = Settings(data_dir=tmp_path, sources={**base, "aid": {"backend": "csv", "options": {"path": str(export)}}})  # type: ignore[arg-type]
    assert isinstance(build_sources(configured).extra["aid"], CsvAidSource)
    with pytest.raises(ConfigError, match="no configuration for source aid"):
        build_sources(Settings(data_dir=tmp_path, sources=base))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="options.path is required"):
        build_sources(Settings(data_dir=tmp_path, sources={**base, "aid": {"backend": "csv"}}))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown key"):
        build_source("aid", {"backend": "csv", "path": "x", "url": "http://elsewhere"})


def test_a_population_officer_reads_enrolments_joined_to_the_citizen_and_each_is_ledgered(
    client: TestClient, settings: Settings
) -> None:
    body = post(client, QUERY, headers(settings, "population_officer"), nik=OWN.nik)
    assert "errors" not in body, body
    enrolments = body["data"]["aidEnrolments"]
    assert [e["programme"] for e in enrolments] == ["PKH"] * (len(enrolments) - (OWN is HEADS[0])) + (["BPNT"] if OWN is HEADS[0] else [])
    assert all(e["recipient"] == {"nik": OWN.nik, "fullName": OWN.full_name} for e in enrolments)
    assert enrolments[0]["kelurahan"]["code"] == SIMPANG_BARU
    entries = ledger(settings, "AidEnrolment")
    assert [(e.record_key, e.purpose, e.subject) for e in entries] == [(OWN.nik, "population-service", "t-population_officer")]
    assert "bankAccount" not in entries[0].fields and "recipientNik" in entries[0].fields
    assert [e.record_key for e in ledger(settings, "Citizen")] == [OWN.nik]  # the joined citizen too


def test_no_purpose_no_enrolment(client: TestClient, settings: Settings) -> None:
    body = post(client, QUERY, headers(settings, "population_officer", purpose=None), nik=OWN.nik)
    assert body["data"] is None or body["data"]["aidEnrolments"] is None
    assert body["errors"][0]["extensions"]["code"] == "PURPOSE_REQUIRED"
    assert ledger(settings, "AidEnrolment") == []


@pytest.mark.parametrize("role", ["population_officer", "kelurahan_officer"])
def test_the_bank_account_is_in_no_granted_role_schema(client: TestClient, settings: Settings, role: str) -> None:
    body = post(client, "query($nik: String!) { aidEnrolments(nik: $nik) { bankAccount } }",
                headers(settings, role, kelurahan=SIMPANG_BARU), nik=OWN.nik)
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", body
    assert "ACC-" not in str(body)


@pytest.mark.parametrize("role", ["licensing_officer", "analyst", "citizen", "anonymous"])
def test_a_role_without_a_grant_has_no_aid_field(client: TestClient, settings: Settings, role: str) -> None:
    head = {} if role == "anonymous" else headers(settings, role, purpose=None, nik=OWN.nik)
    body = post(client, QUERY, head, nik=OWN.nik)
    assert "data" not in body or body["data"] is None, body
    assert "PKH" not in str(body) and OWN.full_name not in str(body)


def test_a_kelurahan_officer_sees_its_own_kelurahan_only_and_learns_nothing_of_the_other(
    client: TestClient, settings: Settings
) -> None:
    officer = headers(settings, "kelurahan_officer", kelurahan=SIMPANG_BARU)
    own = post(client, QUERY, officer, nik=OWN.nik)
    assert own["data"]["aidEnrolments"] and "errors" not in own
    other = post(client, QUERY, officer, nik=OTHER.nik)
    unknown = post(client, QUERY, officer, nik=OTHER.nik[:-4] + "9999")
    assert other == unknown == {"data": {"aidEnrolments": []}}  # enrolled elsewhere reads as not enrolled
    assert {e.record_key for e in ledger(settings, "AidEnrolment")} == {OWN.nik}


def test_a_nik_mask_on_citizen_follows_the_plugins_recipient_nik(
    settings: Settings, export: Path, tmp_path: Path
) -> None:
    """An operator's policy file masks NIKs on Citizen for the population officer: the
    value kind the plug-in declares makes that mask follow `recipientNik` (the plug-in's
    grant says nothing of masks), and the ledger notes it as masked."""
    policy = yaml.safe_load(resources.files("auth").joinpath("default_policy.yaml").read_text())
    policy["roles"]["population_officer"]["types"]["Citizen"]["mask"] = {"nik": "nik"}
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy))
    settings = settings.model_copy(update={"policy_file": tmp_path / "policy.yaml"})
    aid = build_source("aid", {"backend": "csv", "path": str(export)})
    with TestClient(create_app(settings, sources=Sources(*WORLD.sources(), extra={"aid": aid}))) as client:
        body = post(client, "query($nik: String!) { aidEnrolments(nik: $nik) { number recipientNik } }",
                    headers(settings, "population_officer"), nik=OWN.nik)
    assert "errors" not in body, body
    shown = body["data"]["aidEnrolments"][0]["recipientNik"]
    assert shown != OWN.nik and shown[:6] == OWN.nik[:6], shown
    entry, = ledger(settings, "AidEnrolment")
    assert "recipientNik" in entry.masked_fields


def test_the_source_shows_in_readiness(client: TestClient) -> None:
    states = {s["source"]: s["state"] for s in client.get("/readyz").json()["sources"]}
    assert states["aid"] == "UP"
