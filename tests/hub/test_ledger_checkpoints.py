"""The hub anchors its ledger head outside the store; `hub audit verify` holds the chain to it.

A rollback (the newest entries deleted, the head set back) walks clean; these tests show
`hub audit verify` reporting it from the checkpoint file, from a copy of the published
checkpoint, and the running hub publishing, refusing and surviving what it must.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import stat
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from joserfc import jws
from joserfc.jwk import KeySet
from starlette.testclient import TestClient

from auth.issuer import DevelopmentIssuer
from auth.ledger import CheckpointFile, LedgerDraft, anchor_head, append
from hub.app import create_app
from hub.cli import main
from hub.demo import DemoSources, demo_api_key, demo_settings
from hub.identity import hub_issuer
from hub.ledger_anchor import CHECKPOINT_TYPE, head_signer
from hub.private_files import secure_hub_files, write_private
from hub.settings import Settings, load_settings
from hub.store import create_store_engine, create_tables
from tests.support.pg_database import postgres_database

CITIZENS = "{ citizens(first: 3) { edges { node { nik fullName } } } }"


def draft(n: int) -> LedgerDraft:
    return LedgerDraft(
        request_id=f"r{n}", subject="officer", roles=["population_officer"], purpose="population-service",
        document_hash="0" * 64, record_type="Citizen", record_key=f"14710801019{n:05d}", fields=["fullName"],
    )


def fill(store_url: str, count: int, *, start: int = 0, at: datetime | None = None) -> None:
    async def run() -> None:
        engine = create_store_engine(store_url)
        try:
            await create_tables(engine)
            for n in range(start, start + count):
                clock = (lambda: at) if at is not None else None
                await append(engine, [draft(n)], **({"clock": clock} if clock else {}))
        finally:
            await engine.dispose()

    asyncio.run(run())


def anchor(settings: Settings, *, issuer: DevelopmentIssuer | None = None) -> str:
    """One checkpoint signed with the hub's key (as the running hub does); its outcome."""
    async def run() -> str:
        engine = create_store_engine(settings.resolved_store_url)
        try:
            done = await anchor_head(engine, CheckpointFile(settings.resolved_checkpoint_file),
                                     signer=head_signer(issuer or hub_issuer(settings)))
        finally:
            await engine.dispose()
        return done.outcome

    return asyncio.run(run())


def roll_back(database: Path, *, keep: int) -> None:
    with sqlite3.connect(database) as conn:
        kept = conn.execute("SELECT entry_hash FROM ledger_entries WHERE seq = ?", (keep,)).fetchone()[0]
        conn.execute("DELETE FROM ledger_entries WHERE seq > ?", (keep,))
        conn.execute("UPDATE ledger_head SET seq = ?, entry_hash = ?", (keep, kept))


def verify_cli(data_dir: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["audit", "verify", "--data-dir", str(data_dir), *extra])
    return code, capsys.readouterr().out


@pytest.fixture
def hub_dir(tmp_path: Path) -> tuple[Settings, Path]:
    settings = load_settings(data_dir=tmp_path)
    fill(settings.resolved_store_url, 5)
    return settings, tmp_path / "hub.db"


# --- hub audit verify ----------------------------------------------------------------------


def test_audit_verify_reports_a_rollback_that_the_chain_walk_cannot_see(
    hub_dir: tuple[Settings, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    settings, database = hub_dir
    assert anchor(settings) == "written"
    code, out = verify_cli(settings.data_dir, capsys)
    assert code == 0, out
    assert "5 entries verified" in out and "head checkpoints: 1 agree with the chain; latest seq 5" in out

    roll_back(database, keep=2)

    code, out = verify_cli(settings.data_dir, capsys)
    assert code == 1
    assert "hash chain intact: 2 entries verified" in out  # the walk alone passes
    assert "ROLLBACK: ledger-head-checkpoints.jsonl line 1 (seq 5, signed " in out
    assert "the chain ends at seq 2" in out and "entries 3..5 are missing" in out


def test_audit_verify_reports_a_checkpoint_whose_signature_does_not_hold(
    hub_dir: tuple[Settings, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    settings, _ = hub_dir
    anchor(settings)
    path = settings.resolved_checkpoint_file
    line = orjson.loads(path.read_bytes())
    path.write_bytes(orjson.dumps({**line, "seq": 4}) + b"\n")  # a smaller seq, same signature

    code, out = verify_cli(settings.data_dir, capsys)
    assert code == 1
    assert "line 1 (seq 4, " in out and "the signature does not verify with the hub's keys" in out


def test_audit_verify_refuses_a_checkpoint_signed_by_another_key(
    hub_dir: tuple[Settings, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    settings, _ = hub_dir
    stranger = DevelopmentIssuer.ephemeral(issuer="someone-else", audience="simpul")
    anchor(settings, issuer=stranger)

    code, out = verify_cli(settings.data_dir, capsys)
    assert code == 1 and "the signature does not verify" in out


def test_checkpoints_signed_by_a_key_since_rotated_out_still_verify_through_the_last_line(
    hub_dir: tuple[Settings, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    settings, database = hub_dir
    issuer = hub_issuer(settings)
    old_kid = issuer.current_kid
    anchor(settings)  # seq 5, the old key
    issuer.rotate()
    fill(settings.resolved_store_url, 2, start=5)
    anchor(settings)  # seq 7, the new key; its signed `prev` fixes line 1
    issuer.remove_key(old_kid)

    code, out = verify_cli(settings.data_dir, capsys)
    assert code == 0, out
    assert "head checkpoints: 2 agree with the chain" in out

    roll_back(database, keep=4)  # the old key's checkpoint is still held to the chain
    code, out = verify_cli(settings.data_dir, capsys)
    assert code == 1 and "line 1 (seq 5" in out and "line 2 (seq 7" in out


def test_audit_verify_reports_a_checkpoint_file_with_a_line_cut_out(
    hub_dir: tuple[Settings, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    settings, _ = hub_dir
    for n in range(3):
        fill(settings.resolved_store_url, 1, start=10 + n)
        anchor(settings)
    path = settings.resolved_checkpoint_file
    first, _, third = path.read_bytes().splitlines()
    path.write_bytes(first + b"\n" + third + b"\n")

    code, out = verify_cli(settings.data_dir, capsys)
    assert code == 1
    assert "HEAD CHECKPOINTS FAILED" in out and "line 2 does not follow line 1" in out


def test_a_pruned_ledger_verifies_against_its_checkpoints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(data_dir=tmp_path)
    fill(settings.resolved_store_url, 4, at=datetime.now(UTC) - timedelta(days=90))
    anchor(settings)  # seq 4: pruned below
    fill(settings.resolved_store_url, 3, start=4)
    anchor(settings)  # seq 7: kept

    assert main(["audit", "prune", "--days", "30", "--data-dir", str(tmp_path)]) == 0
    assert "pruned 4 entries up to seq 4" in capsys.readouterr().out
    code, out = verify_cli(tmp_path, capsys)
    assert code == 0, out
    assert "head checkpoints: 2 agree with the chain" in out  # seq 4 against the retention checkpoint


def test_a_saved_copy_of_the_published_checkpoint_finds_a_rollback_when_the_file_is_gone(
    hub_dir: tuple[Settings, Path], capsys: pytest.CaptureFixture[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    settings, database = hub_dir
    anchor(settings)
    elsewhere = tmp_path_factory.mktemp("auditor")
    saved = elsewhere / "checkpoint.json"
    saved.write_bytes(settings.resolved_checkpoint_file.read_bytes())
    keys = elsewhere / "jwks.json"
    keys.write_text(json.dumps(hub_issuer(settings).jwks()))

    roll_back(database, keep=3)
    settings.resolved_checkpoint_file.unlink()  # the intruder removed the file too

    code, out = verify_cli(settings.data_dir, capsys)
    assert code == 0 and "no signed head checkpoints" in out  # what the hub alone can still say
    code, out = verify_cli(settings.data_dir, capsys, "--checkpoint", str(saved), "--jwks", str(keys))
    assert code == 1
    assert f"ROLLBACK: {saved} (seq 5" in out and "entries 4..5 are missing" in out


def test_audit_verify_json_carries_the_checkpoint_report(
    hub_dir: tuple[Settings, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    settings, database = hub_dir
    anchor(settings)
    roll_back(database, keep=4)
    code, out = verify_cli(settings.data_dir, capsys, "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False and report["chain_ok"] is True
    assert report["head_checkpoints"]["lines"] == 1
    assert "entry 5 is missing" in report["head_checkpoints"]["problems"][0]


def test_a_checkpoint_given_that_is_not_one_is_a_clear_error(
    hub_dir: tuple[Settings, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    settings, _ = hub_dir
    assert main(["audit", "verify", "--data-dir", str(settings.data_dir), "--checkpoint", "nonsense"]) == 2
    assert "neither a URL, a file nor a JSON object" in capsys.readouterr().err
    code, out = verify_cli(settings.data_dir, capsys, "--checkpoint", '{"seq": "five"}')
    assert code == 1 and "the checkpoint given: not a ledger checkpoint" in out


# --- the running hub ---------------------------------------------------------------------------


def wait_for(condition: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_the_hub_publishes_a_checkpoint_that_verifies_with_its_jwks(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        assert client.get("/.well-known/ledger-checkpoint").status_code == 404  # nothing written yet
    fill(settings.resolved_store_url, 3)

    with TestClient(create_app(settings)) as client:
        response = client.get("/.well-known/ledger-checkpoint")
        assert response.status_code == 200
        published = response.json()
        keys = KeySet.import_key_set(client.get(published["jwks_uri"]).json())
        page = client.get("/").text

    signed = jws.deserialize_compact(published["jws"], keys, algorithms=["ES256"])
    assert signed.headers()["typ"] == CHECKPOINT_TYPE
    payload = orjson.loads(signed.payload)
    assert payload == {k: published[k] for k in ("seq", "head", "time", "prev")}
    assert payload["seq"] == 3
    assert published["head"][:16] in page and 'id="ledger-count">3<' in page


def test_the_hub_anchors_every_n_entries_and_at_shutdown(stack: DemoSources, tmp_path: Path, token) -> None:  # type: ignore[no-untyped-def]
    settings = demo_settings(stack, store_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
                             ledger_checkpoints={"interval_seconds": 0, "every_entries": 3})
    headers = {**token("population_officer"), "X-Access-Purpose": "population-service"}
    with TestClient(create_app(settings)) as client:
        body = client.post("/graphql", json={"query": CITIZENS}, headers=headers).json()
        assert len(body["data"]["citizens"]["edges"]) == 3
        wait_for(lambda: client.get("/.well-known/ledger-checkpoint").status_code == 200)
        assert client.get("/.well-known/ledger-checkpoint").json()["seq"] == 3
        client.post("/graphql", json={"query": "{ citizens(first: 1) { edges { node { nik } } } }"},
                    headers=headers)
    lines = settings.resolved_checkpoint_file.read_bytes().splitlines()
    assert [orjson.loads(line)["seq"] for line in lines] == [3, 4]  # the last one at shutdown


def test_a_checkpoint_that_cannot_be_written_does_not_stop_the_hub(stack: DemoSources, tmp_path: Path, token) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings = demo_settings(stack, store_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
                             ledger_checkpoints={"file": str(blocker / "checkpoints.jsonl"), "every_entries": 1})
    headers = {**token("population_officer"), "X-Access-Purpose": "population-service"}
    with TestClient(create_app(settings)) as client:
        body = client.post("/graphql", json={"query": CITIZENS}, headers=headers).json()
        assert len(body["data"]["citizens"]["edges"]) == 3  # the data is served, the ledger written
        assert client.get("/healthz").status_code == 200

        def failed() -> bool:
            text = client.get("/metrics").text
            return 'simpul_ledger_checkpoints_total{outcome="failed"}' in text
        wait_for(failed)
        assert client.get("/.well-known/ledger-checkpoint").status_code == 404


def test_a_hub_restarted_on_a_rolled_back_store_refuses_to_sign_it_and_says_so(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    fill(settings.resolved_store_url, 6)
    with TestClient(create_app(settings)):
        pass
    before = settings.resolved_checkpoint_file.read_bytes()
    roll_back(Path(settings.sqlite_store_file or ""), keep=4)

    with caplog.at_level(logging.ERROR, logger="simpul.ledger"), TestClient(create_app(settings)) as client:
        published = client.get("/.well-known/ledger-checkpoint").json()
        metrics = client.get("/metrics").text
    assert published["seq"] == 6  # the last honest checkpoint stays published
    assert 'simpul_ledger_checkpoints_total{outcome="refused"}' in metrics
    assert any("LEDGER ROLLBACK" in r.getMessage() and "entries 5..6 are missing" in r.getMessage()
               for r in caplog.records)
    assert settings.resolved_checkpoint_file.read_bytes() == before


# --- the data directory is the hub user's only ----------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_the_store_the_keys_and_the_checkpoints_are_created_for_the_owner_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"
    settings = load_settings(data_dir=data_dir)
    fill(settings.resolved_store_url, 2)
    anchor(settings)
    issuer_dir = data_dir / "issuer"
    assert mode(data_dir) == 0o700 and mode(issuer_dir) == 0o700
    for path in (data_dir / "hub.db", issuer_dir / "issuer-keys.json", settings.resolved_checkpoint_file):
        assert mode(path) == 0o600, path
    wal = data_dir / "hub.db-wal"
    if wal.exists():  # SQLite gives its log the database file's mode
        assert mode(wal) == 0o600
    assert demo_api_key(data_dir) and mode(data_dir / "demo-api-key") == 0o600


def test_write_private_tightens_a_file_it_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "hub.toml"
    path.write_text("old")
    path.chmod(0o644)
    write_private(path, "trace_sources = true\n")
    assert mode(path) == 0o600 and path.read_text() == "trace_sources = true\n"


def loose_data_dir(root: Path) -> Settings:
    root.mkdir(mode=0o755)
    root.chmod(0o755)
    (root / "hub.db").write_text("")
    (root / "issuer").mkdir(mode=0o755)
    (root / "issuer").chmod(0o755)
    (root / "issuer" / "issuer-keys.json").write_text("{}")
    (root / "hub.toml").write_text("")
    for path in (root / "hub.db", root / "issuer" / "issuer-keys.json", root / "hub.toml"):
        path.chmod(0o644)
    return load_settings(data_dir=root)


def test_existing_files_readable_by_others_are_tightened(tmp_path: Path) -> None:
    settings = loose_data_dir(tmp_path / "data")
    outside = tmp_path / "shared-notes.txt"
    outside.write_text("")
    outside.chmod(0o644)
    (settings.data_dir / "link").symlink_to(outside)

    assert secure_hub_files(settings) == []

    root = settings.data_dir
    assert [mode(p) for p in (root, root / "issuer")] == [0o700, 0o700]
    assert [mode(p) for p in (root / "hub.db", root / "issuer" / "issuer-keys.json", root / "hub.toml")] == [0o600] * 3
    assert mode(outside) == 0o644  # a link is not followed out of the data directory


@pytest.mark.skipif(os.getuid() != 0, reason="giving a file to another user needs root")
def test_a_file_the_hub_cannot_tighten_is_reported(tmp_path: Path) -> None:
    settings = loose_data_dir(tmp_path / "data")
    foreign = settings.data_dir / "population.db"
    foreign.write_text("")
    foreign.chmod(0o644)
    os.chown(foreign, 12345, 12345)

    warnings = secure_hub_files(settings)

    assert len(warnings) == 1 and str(foreign) in warnings[0] and "another user" in warnings[0]


def test_a_home_directory_given_as_data_directory_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o755)
    monkeypatch.setenv("HOME", str(home))
    warnings = secure_hub_files(load_settings(data_dir=home))
    assert mode(home) == 0o755 and "home directory" in warnings[0]


def test_hub_serve_tightens_the_data_directory_before_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import hub.app
    import hub.shutdown

    settings = loose_data_dir(tmp_path / "data")
    served: list[Any] = []
    monkeypatch.setattr(hub.app, "create_app", lambda s: s)
    monkeypatch.setattr(hub.shutdown, "serve", lambda app, **kw: served.append(app))

    assert main(["serve", "--data-dir", str(settings.data_dir)]) == 0

    assert served and mode(settings.data_dir / "hub.db") == 0o600 and mode(settings.data_dir) == 0o700


# --- several instances on one PostgreSQL store ------------------------------------------------------


@pytest.fixture
def pg_store() -> Any:
    """A fresh PostgreSQL database for the test, dropped after it."""
    with postgres_database("hub_checkpoints") as url:
        yield url


@pytest.mark.postgres
def test_two_instances_on_postgresql_anchor_the_one_shared_chain_and_a_rollback_is_found(
    stack: DemoSources, pg_store: str, tmp_path: Path, token, capsys: pytest.CaptureFixture[str]  # type: ignore[no-untyped-def]
) -> None:
    files = [tmp_path / "instance-a.jsonl", tmp_path / "instance-b.jsonl"]
    apps = [create_app(demo_settings(stack, store_url=pg_store,
                                     ledger_checkpoints={"file": str(f), "every_entries": 2, "interval_seconds": 0}))
            for f in files]
    headers = {**token("population_officer"), "X-Access-Purpose": "population-service"}
    with TestClient(apps[0]) as first, TestClient(apps[1]) as second:
        for _ in range(3):
            for client in (first, second):
                assert "errors" not in client.post("/graphql", json={"query": CITIZENS}, headers=headers).json()
    # 18 entries in one chain; each instance's file holds its own view of it, ending at the shared head
    assert {orjson.loads(f.read_bytes().splitlines()[-1])["seq"] for f in files} == {18}

    config = tmp_path / "hub.toml"
    config.write_text(f'store_url = "{pg_store}"\n[ledger_checkpoints]\nfile = "{files[0]}"\n')
    args = ["audit", "verify", "--config", str(config), "--data-dir", str(stack.data_dir), "--checkpoint", str(files[1])]
    assert main(args) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "18 entries verified" in out and "latest seq 18" in out

    async def roll_back_pg() -> None:
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(pg_store)
        try:
            async with engine.begin() as conn:
                await conn.execute(text("DELETE FROM ledger_entries WHERE seq > 15"))
                await conn.execute(text(
                    "UPDATE ledger_head SET seq = 15, entry_hash = (SELECT entry_hash FROM ledger_entries WHERE seq = 15)"
                ))
        finally:
            await engine.dispose()

    asyncio.run(roll_back_pg())
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "hash chain intact: 15 entries verified" in out
    assert "ROLLBACK: instance-a.jsonl line" in out and f"ROLLBACK: {files[1]} line" in out
    assert "entries 16..18 are missing" in out
