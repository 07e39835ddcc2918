"""The hub store's Alembic migrations (hub.migrations), on SQLite and PostgreSQL: from an
empty store, from a store as the hub made it before migrations (with data, whose ledger
chain still verifies), the start-up choice (upgrade or refuse), and `hub migrate`."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.schema import CreateIndex, CreateTable
from starlette.testclient import TestClient

from auth.clients import add_client, list_clients
from auth.ledger import LedgerDraft, LedgerUnavailable, append, verify
from connectors.surveys import SurveyResponse, SurveyStore
from hub.app import create_app
from hub.cli import main
from hub.migrations import StoreNotCurrent, head_revision, prepare_store, store_revision, upgrade_store
from hub.settings import Settings
from hub.store import create_store_engine, store_metadata, store_tables
from tests.support.pg_database import hub_store_url, postgres_database

ACTIONS = "action IN ('read', 'write', 'search')"
OLD_ACTIONS = "action IN ('read', 'write')"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with hub_store_url(request.param, tmp_path, "migrations") as url:
        yield url


@pytest.fixture
async def engine(store_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_store_engine(store_url)
    yield engine
    await engine.dispose()


def _differences(connection: Connection) -> list[object]:
    """What the migrated store lacks or has beyond the tables the code defines."""
    context = MigrationContext.configure(connection, opts={"compare_type": False})
    return [diff for diff in compare_metadata(context, store_tables()) if not _is_alembic_version(diff)]


def _is_alembic_version(diff: object) -> bool:
    return isinstance(diff, tuple) and diff[0] == "remove_table" and diff[1].name == "alembic_version"


async def _make_as_before_migrations(engine: AsyncEngine, *, before_search: bool = False) -> None:
    """The store as the hub created it before it had migrations: `create_all` of each
    package's tables (and, before issue 21, a ledger whose CHECK allowed read and write only)."""
    async with engine.begin() as conn:
        for metadata in store_metadata():
            for table in metadata.sorted_tables:
                if before_search and table.name == "ledger_entries":
                    ddl = str(CreateTable(table).compile(dialect=conn.dialect))
                    assert ACTIONS in ddl
                    await conn.execute(text(ddl.replace(ACTIONS, OLD_ACTIONS)))
                    for index in table.indexes:
                        await conn.execute(CreateIndex(index))
                else:
                    await conn.run_sync(table.create)


def _draft(i: int, action: str = "read") -> LedgerDraft:
    return LedgerDraft(f"r{i}", "officer", ("population_officer",), "population-service", "0" * 64, "Citizen",
                       f"14710801019{i:05d}", ("fullName",), (), action=action)


async def _fill(engine: AsyncEngine, entries: int) -> str:
    for i in range(entries):
        await append(engine, [_draft(i)])
    async with engine.begin() as conn:
        client_id, _ = await add_client(conn, roles=["analyst"], name="dashboard")
    await SurveyStore(engine).submit(SurveyResponse(service="PBG", scores=(3,) * 9))
    return client_id


async def test_an_empty_store_is_migrated_to_the_tables_the_code_defines(engine: AsyncEngine) -> None:
    assert (await store_revision(engine)).state == "behind"
    before = await upgrade_store(engine)
    assert before.current is None
    revision = await store_revision(engine)
    assert revision.current == revision.head == head_revision() and revision.state == "current"
    async with engine.connect() as conn:
        assert await conn.run_sync(_differences) == []
    assert (await upgrade_store(engine)).state == "current"  # again: nothing to do
    await append(engine, [_draft(1, action="search")])
    assert (await verify(engine)).ok


@pytest.mark.parametrize("before_search", [False, True], ids=["as-main-made-it", "before-search-entries"])
async def test_a_store_made_before_migrations_keeps_its_data_and_its_ledger_chain(
    engine: AsyncEngine, before_search: bool
) -> None:
    await _make_as_before_migrations(engine, before_search=before_search)
    client_id = await _fill(engine, entries=25)
    if before_search:
        with pytest.raises(LedgerUnavailable, match="IntegrityError"):  # its CHECK refuses `search`
            await append(engine, [_draft(99, action="search")])
    assert (await verify(engine)).entries == 25

    await upgrade_store(engine)

    assert (await store_revision(engine)).state == "current"
    result = await verify(engine)
    assert result.ok and result.entries == 25 and result.head_seq == 25
    async with engine.connect() as conn:
        assert [c.client_id for c in await list_clients(conn)] == [client_id]
        assert await conn.run_sync(_differences) == []
    assert await SurveyStore(engine).count() == 1
    await append(engine, [_draft(26, action="search")])  # the widened CHECK takes it
    with pytest.raises(Exception, match="(?i)check"):  # and still refuses anything else
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE ledger_entries SET action = 'other' WHERE seq = 1"))
    result = await verify(engine)
    assert result.ok and result.entries == 26


async def test_a_store_missing_a_later_table_gets_it_and_keeps_the_others(engine: AsyncEngine) -> None:
    await _make_as_before_migrations(engine)
    await _fill(engine, entries=3)
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE satisfaction_survey_refused"))
    await upgrade_store(engine)
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert "satisfaction_survey_refused" in tables
    assert (await verify(engine)).entries == 3


async def test_a_store_from_a_newer_release_is_refused_and_left_alone(engine: AsyncEngine) -> None:
    await upgrade_store(engine)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    revision = await store_revision(engine)
    assert revision.state == "ahead" and revision.current == "f00d"
    for mode in ("upgrade", "refuse"):
        with pytest.raises(StoreNotCurrent, match="f00d.*does not know.*newer release"):
            await prepare_store(engine, mode)
    assert (await store_revision(engine)).current == "f00d"


async def test_refuse_mode_stops_on_a_store_behind_and_says_to_run_hub_migrate(engine: AsyncEngine) -> None:
    with pytest.raises(StoreNotCurrent, match=r"behind: it is at revision \(none\).*run `hub migrate`"):
        await prepare_store(engine, "refuse")
    async with engine.connect() as conn:  # nothing was created
        assert await conn.run_sync(lambda sync: inspect(sync).get_table_names()) == []
    await upgrade_store(engine)
    assert (await prepare_store(engine, "refuse")).state == "current"


@pytest.mark.postgres
async def test_instances_starting_together_migrate_once() -> None:
    with postgres_database("migrations") as url:
        engines = [create_store_engine(url) for _ in range(4)]
        try:
            befores = await asyncio.gather(*(upgrade_store(e) for e in engines))
            assert sorted(b.state for b in befores) == ["behind", "current", "current", "current"]
            async with engines[0].connect() as conn:
                assert (await conn.execute(text("SELECT count(*) FROM alembic_version"))).scalar() == 1
        finally:
            for e in engines:
                await e.dispose()


def test_the_app_refuses_to_start_on_a_store_behind_when_told_to(settings: Settings) -> None:
    refuse = settings.model_copy(update={"store_migrations": "refuse"})
    with pytest.raises(StoreNotCurrent), TestClient(create_app(refuse)):
        pass
    assert settings.store_migrations == "upgrade"  # the default: migrate at start-up
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
    with TestClient(create_app(refuse)) as client:  # now current
        assert client.get("/healthz").status_code == 200


def test_hub_migrate_upgrades_and_reports_the_state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = ["--data-dir", str(tmp_path)]
    assert main(["migrate", "--status", *data_dir]) == 1
    out = capsys.readouterr().out
    assert "current: (none)" in out and f"head:    {head_revision()}" in out and "state:   behind" in out
    assert main(["migrate", *data_dir]) == 0
    assert f"upgraded from (none) to {head_revision()}" in capsys.readouterr().out
    assert main(["migrate", *data_dir]) == 0
    assert "is current" in capsys.readouterr().out
    assert main(["migrate", "--status", *data_dir]) == 0
    assert "state:   current" in capsys.readouterr().out


def test_hub_serve_refuses_a_store_behind_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIMPUL_STORE_MIGRATIONS", "refuse")
    assert main(["serve", "--data-dir", str(tmp_path), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "hub store is behind" in err and "run `hub migrate`" in err and "Traceback" not in err


def test_the_migrations_run_from_an_installed_wheel(tmp_path: Path) -> None:
    """Built as a wheel (from a copy of the product's packages), installed into a folder
    of its own, and run from another directory: `hub migrate` finds its scripts there."""
    root = Path(__file__).resolve().parents[2]
    source = tmp_path / "src"
    for name in ("hub", "schema", "auth", "connectors", "demo", "bench"):
        shutil.copytree(root / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(root / name, source / name)
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", str(source), "--no-deps", "-w", str(wheels)], check=True, timeout=300)
    (wheel,) = wheels.glob("simpul-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True, timeout=300)
    script = ("import sys, hub; assert hub.__file__.startswith(sys.argv[1]), hub.__file__; "
              "from hub.cli import main; sys.exit(main(['migrate', '--data-dir', sys.argv[2]]))")
    run = subprocess.run([sys.executable, "-c", script, str(target), str(tmp_path / "data")], capture_output=True,
                         text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(target)}, timeout=300)
    assert run.returncode == 0, run.stderr
    assert f"upgraded from (none) to {head_revision()}" in run.stdout


@pytest.mark.parametrize("command", [
    pytest.param(["audit", "verify"], id="audit-verify"),
    pytest.param(["client", "list"], id="client-list"),
    pytest.param(["operations", "list"], id="operations-list"),
])
def test_every_command_that_opens_the_store_refuses_one_behind_in_refuse_mode(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "hub.db").touch()  # a store with no migrations run: behind
    monkeypatch.setenv("SIMPUL_STORE_MIGRATIONS", "refuse")
    assert main([*command, "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "hub store is behind" in err and "run `hub migrate`" in err


async def test_apq_documents_kept_before_the_byte_bound_get_their_size(engine: AsyncEngine) -> None:
    from alembic import command

    from hub.migrations import _config

    def to_0005(sync: Connection) -> None:
        command.upgrade(_config(sync), "0005")

    async with engine.begin() as conn:
        await conn.run_sync(to_0005)
        await conn.execute(text("INSERT INTO apq_documents (sha256, body, created_at, used_at) VALUES "
                                "('a', '{ me { subject } }', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    await upgrade_store(engine)
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT bytes FROM apq_documents"))).scalar_one() == len("{ me { subject } }")


async def test_queued_notifications_keep_their_webhook_id_and_new_ones_get_unique_ids(engine: AsyncEngine) -> None:
    from alembic import command
    from sqlalchemy import insert, select
    from sqlalchemy.exc import IntegrityError

    from hub.migrations import _config
    from hub.notifications.outbox import new_webhook_id, outbox_table

    def to_0006(sync: Connection) -> None:
        command.upgrade(_config(sync), "0006")

    async with engine.begin() as conn:
        await conn.run_sync(to_0006)
        for event in (1, 2):  # queued (and perhaps sent as ntf_<id>) before the upgrade
            await conn.execute(text("INSERT INTO notification_outbox (event_id, recipient_nik, case_number, body,"
                                    " state, attempts, next_attempt, created) VALUES"
                                    f" ({event}, '3201010101010001', 'LAP-{event}', '{{}}', 'pending', 1, 0, 0)"))
    await upgrade_store(engine)
    row = {"recipient_nik": "3201010101010001", "case_number": "LAP-3", "body": "{}", "state": "pending",
           "attempts": 0, "next_attempt": 0, "created": 0}
    async with engine.begin() as conn:
        await conn.execute(insert(outbox_table), [{**row, "event_id": e, "webhook_id": new_webhook_id()} for e in (3, 4)])
    async with engine.connect() as conn:
        ids = dict((await conn.execute(select(outbox_table.c.event_id, outbox_table.c.webhook_id))).all())
        assert await conn.run_sync(_differences) == []
    assert ids[1] == "ntf_1" and ids[2] == "ntf_2"
    assert ids[3].startswith("msg_") and ids[4].startswith("msg_") and ids[3] != ids[4]
    with pytest.raises(IntegrityError):  # the store itself refuses a second message with one id
        async with engine.begin() as conn:
            await conn.execute(insert(outbox_table).values(**row, event_id=5, webhook_id=ids[3]))
