"""Signed head checkpoints outside the store: a rolled-back ledger no longer passes.

Deleting the newest entries and setting the head back leaves a chain that walks clean
(`verify` cannot tell); the checkpoints in the file say how far the chain had reached.
"""

from __future__ import annotations

import asyncio
import stat
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from auth.ledger import (
    CheckpointFile,
    HeadCheckpoint,
    LedgerEntry,
    append,
    anchor_head,
    check_head_checkpoints,
    prune,
    verify,
)
from auth.ledger import anchor_file
from auth.ledger.anchor_file import FIRST_PREV, line_hash
from auth.ledger.tables import ledger_entries, ledger_head
from auth.ledger.testing import create_ledger_tables, hmac_signer, hmac_verifier, sample_draft
from tests.support.pg_database import postgres_database

KEY = b"test-head-key"
SIGN = hmac_signer(KEY)
CHECK = hmac_verifier(KEY)
JANUARY = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for each test, dropped after it."""
    with postgres_database("ledger_rollback") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
async def ledger(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    await create_ledger_tables(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def sqlite_ledger(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """For what does not depend on the database: the file, the signatures."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    await create_ledger_tables(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def file(tmp_path: Path) -> CheckpointFile:
    return CheckpointFile(tmp_path / "anchors" / "ledger-head-checkpoints.jsonl")


def clock_at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


async def fill(engine: AsyncEngine, count: int, *, start: datetime = JANUARY, tag: str = "a") -> list[LedgerEntry]:
    written: list[LedgerEntry] = []
    for n in range(count):
        draft = sample_draft(request_id=f"req-{tag}-{n}", record_key=f"{1471080101900000 + n}")
        written += await append(engine, [draft], clock=clock_at(start + timedelta(hours=n)))
    return written


async def roll_back(engine: AsyncEngine, entries: list[LedgerEntry], *, keep: int) -> None:
    """What an intruder with write access to the store does: drop the newest entries and
    set the head back to the last one kept, so that the chain walks clean."""
    async with engine.begin() as conn:
        await conn.execute(delete(ledger_entries).where(ledger_entries.c.seq > keep))
        await conn.execute(update(ledger_head).values(seq=keep, entry_hash=entries[keep - 1].entry_hash))


def lines(file: CheckpointFile) -> list[dict[str, Any]]:
    return [line.record for line in file.read().lines]


def checkpoints(file: CheckpointFile) -> list[HeadCheckpoint]:
    return [HeadCheckpoint.from_record(record) for record in lines(file)]


# --- the rollback ------------------------------------------------------------------------


async def test_a_rollback_of_the_newest_entries_walks_clean_but_contradicts_the_checkpoint(
    ledger: AsyncEngine, file: CheckpointFile
) -> None:
    entries = await fill(ledger, 20)
    written = await anchor_head(ledger, file, signer=SIGN)
    assert written.outcome == "written" and written.checkpoint is not None
    assert (written.checkpoint.seq, written.checkpoint.head) == (20, entries[-1].entry_hash)

    await roll_back(ledger, entries, keep=15)

    assert (await verify(ledger)).ok  # the chain alone cannot tell
    check = await check_head_checkpoints(ledger, checkpoints(file))
    assert check.checked == 0 and len(check.contradictions) == 1
    assert "the chain ends at seq 15" in check.contradictions[0].detail
    assert "entries 16..20 are missing" in check.contradictions[0].detail


async def test_a_rolled_back_chain_grown_again_past_the_checkpoint_is_found_by_its_hash(
    ledger: AsyncEngine, file: CheckpointFile
) -> None:
    entries = await fill(ledger, 10)
    await anchor_head(ledger, file, signer=SIGN)
    await roll_back(ledger, entries, keep=7)
    await fill(ledger, 5, start=JANUARY + timedelta(days=2), tag="b")  # seq 8..12, new entries

    assert (await verify(ledger)).ok
    check = await check_head_checkpoints(ledger, checkpoints(file))
    assert len(check.contradictions) == 1
    assert "entry 10 hashes to" in check.contradictions[0].detail
    assert entries[9].entry_hash[:16] in check.contradictions[0].detail


async def test_every_checkpoint_of_an_untouched_growing_chain_agrees(
    ledger: AsyncEngine, file: CheckpointFile
) -> None:
    for round_ in range(4):
        await fill(ledger, 3, start=JANUARY + timedelta(days=round_), tag=str(round_))
        assert (await anchor_head(ledger, file, signer=SIGN)).outcome == "written"
    check = await check_head_checkpoints(ledger, checkpoints(file))
    assert (check.checked, check.contradictions) == (4, [])
    assert [c.seq for c in checkpoints(file)] == [3, 6, 9, 12]


async def test_the_hub_refuses_to_sign_a_head_that_went_back(ledger: AsyncEngine, file: CheckpointFile) -> None:
    entries = await fill(ledger, 8)
    await anchor_head(ledger, file, signer=SIGN)
    await roll_back(ledger, entries, keep=5)
    await fill(ledger, 6, start=JANUARY + timedelta(days=3), tag="b")  # now past the checkpoint's seq

    refused = await anchor_head(ledger, file, signer=SIGN)

    assert refused.outcome == "refused" and "entry 8 hashes to" in refused.detail
    assert len(lines(file)) == 1  # nothing signed over the rolled-back chain


async def test_an_unchanged_head_and_an_empty_ledger_write_no_line(ledger: AsyncEngine, file: CheckpointFile) -> None:
    assert (await anchor_head(ledger, file, signer=SIGN)).outcome == "empty"
    await fill(ledger, 2)
    assert (await anchor_head(ledger, file, signer=SIGN)).outcome == "written"
    assert (await anchor_head(ledger, file, signer=SIGN)).outcome == "unchanged"
    assert len(lines(file)) == 1


async def test_a_file_line_not_signed_by_the_hub_is_not_built_on(sqlite_ledger: AsyncEngine, file: CheckpointFile) -> None:
    await fill(sqlite_ledger, 3)
    forged = HeadCheckpoint(3, "f" * 64, JANUARY, FIRST_PREV, "not-a-signature")
    with file.locked() as locked:
        locked.append(forged.to_record())

    refused = await anchor_head(sqlite_ledger, file, signer=SIGN, verifier=CHECK)

    assert refused.outcome == "refused" and "signature" in refused.detail


async def test_a_file_ending_in_a_line_that_is_not_a_checkpoint_is_not_built_on(
    sqlite_ledger: AsyncEngine, file: CheckpointFile
) -> None:
    await fill(sqlite_ledger, 2)
    with file.locked() as locked:
        locked.append({"note": "not a checkpoint"})

    refused = await anchor_head(sqlite_ledger, file, signer=SIGN)

    assert refused.outcome == "refused" and "not a ledger checkpoint" in refused.detail
    assert len(lines(file)) == 1


# --- signatures ----------------------------------------------------------------------------


async def test_a_checkpoint_signature_holds_only_for_what_was_signed(sqlite_ledger: AsyncEngine, file: CheckpointFile) -> None:
    await fill(sqlite_ledger, 4)
    await anchor_head(sqlite_ledger, file, signer=SIGN)
    record = lines(file)[0]
    assert HeadCheckpoint.from_record(record).signed_by(CHECK)

    for change in ({"seq": 3}, {"head": "0" * 64}, {"time": "2030-01-01T00:00:00.000000Z"},
                   {"jws": record["jws"][:-4] + "0000"}):
        assert not HeadCheckpoint.from_record({**record, **change}).signed_by(CHECK), change
    assert not HeadCheckpoint.from_record(record).signed_by(hmac_verifier(b"another key"))


@pytest.mark.parametrize("change", [
    pytest.param({"seq": 0}, id="seq-zero"),
    pytest.param({"seq": "20"}, id="seq-text"),
    pytest.param({"seq": True}, id="seq-bool"),
    pytest.param({"head": "ABC"}, id="head-short"),
    pytest.param({"prev": None}, id="prev-missing"),
    pytest.param({"time": "2025-01-01"}, id="time-not-canonical"),
    pytest.param({"jws": ""}, id="jws-empty"),
])
def test_a_malformed_checkpoint_line_is_refused(change: dict[str, Any]) -> None:
    good = HeadCheckpoint(5, "a" * 64, JANUARY, FIRST_PREV, "sig").to_record()
    assert HeadCheckpoint.from_record(good).seq == 5
    with pytest.raises(ValueError):
        HeadCheckpoint.from_record({**good, **change})


# --- the file --------------------------------------------------------------------------------


async def three_lines(ledger: AsyncEngine, file: CheckpointFile) -> list[bytes]:
    for round_ in range(3):
        await fill(ledger, 2, start=JANUARY + timedelta(days=round_), tag=str(round_))
        await anchor_head(ledger, file, signer=SIGN)
    return file.path.read_bytes().splitlines()


async def test_each_line_links_to_the_one_before(sqlite_ledger: AsyncEngine, file: CheckpointFile) -> None:
    raw = await three_lines(sqlite_ledger, file)
    records = [orjson.loads(line) for line in raw]
    assert records[0]["prev"] == FIRST_PREV
    assert [r["prev"] for r in records[1:]] == [line_hash(line) for line in raw[:-1]]
    reading = file.read()
    assert (reading.problems, reading.torn_tail, reading.whole_lines) == ([], False, 3)


async def test_a_line_removed_from_the_middle_or_the_front_breaks_the_links(
    sqlite_ledger: AsyncEngine, file: CheckpointFile
) -> None:
    raw = await three_lines(sqlite_ledger, file)
    file.path.write_bytes(raw[0] + b"\n" + raw[2] + b"\n")
    assert file.read().problems == ["line 2 does not follow line 1: lines were removed, inserted or changed before it"]
    file.path.write_bytes(raw[1] + b"\n" + raw[2] + b"\n")
    assert file.read().problems == ["line 1 is not the first line the file had: its first lines were removed"]


async def test_a_line_changed_in_place_breaks_the_next_link(sqlite_ledger: AsyncEngine, file: CheckpointFile) -> None:
    raw = await three_lines(sqlite_ledger, file)
    changed = raw[1].replace(b'"seq":4', b'"seq":3')
    file.path.write_bytes(b"\n".join([raw[0], changed, raw[2]]) + b"\n")
    assert file.read().problems == ["line 3 does not follow line 2: lines were removed, inserted or changed before it"]


async def test_lines_cut_from_the_end_leave_a_consistent_file(sqlite_ledger: AsyncEngine, file: CheckpointFile) -> None:
    """What the file alone cannot show (the documented limit): a copy kept elsewhere can."""
    raw = await three_lines(sqlite_ledger, file)
    file.path.write_bytes(raw[0] + b"\n")
    assert file.read().problems == []


async def test_a_torn_last_line_is_left_out_and_cut_off_by_the_next_writer(
    sqlite_ledger: AsyncEngine, file: CheckpointFile
) -> None:
    raw = await three_lines(sqlite_ledger, file)
    with file.path.open("ab") as handle:
        handle.write(b'{"seq": 7, "he')  # a crash in the middle of a write
    reading = file.read()
    assert reading.torn_tail and reading.problems == [] and len(reading.lines) == 3

    await fill(sqlite_ledger, 1, start=JANUARY + timedelta(days=9), tag="z")
    assert (await anchor_head(sqlite_ledger, file, signer=SIGN)).outcome == "written"
    after = file.path.read_bytes().splitlines()
    assert after[:3] == raw and orjson.loads(after[3])["prev"] == line_hash(raw[2])
    assert file.read().problems == []


async def test_the_file_is_created_for_its_owner_only(sqlite_ledger: AsyncEngine, file: CheckpointFile) -> None:
    await fill(sqlite_ledger, 1)
    await anchor_head(sqlite_ledger, file, signer=SIGN)
    assert stat.S_IMODE(file.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(file.path.parent.stat().st_mode) == 0o700


# --- retention ----------------------------------------------------------------------------


async def test_a_pruned_chain_still_agrees_with_later_checkpoints(ledger: AsyncEngine, file: CheckpointFile) -> None:
    await fill(ledger, 10)  # hours 0..9 of January 1st
    await anchor_head(ledger, file, signer=SIGN)  # seq 10
    await fill(ledger, 10, start=JANUARY + timedelta(days=30), tag="b")
    await anchor_head(ledger, file, signer=SIGN)  # seq 20

    retained = await prune(ledger, before=JANUARY + timedelta(hours=6), signer=SIGN)  # removes 1..6
    assert retained is not None and retained.last_seq == 6
    check = await check_head_checkpoints(ledger, checkpoints(file))
    assert (check.checked, check.pruned, check.contradictions) == (2, 0, [])

    await prune(ledger, before=JANUARY + timedelta(days=30, hours=5), signer=SIGN)  # removes 7..15
    check = await check_head_checkpoints(ledger, checkpoints(file))
    assert (check.checked, check.pruned, check.contradictions) == (1, 1, [])
    assert (await verify(ledger, verifier=CHECK)).ok


async def test_a_checkpoint_at_the_retention_boundary_is_held_to_the_retention_checkpoint(
    ledger: AsyncEngine, file: CheckpointFile
) -> None:
    entries = await fill(ledger, 5)
    await anchor_head(ledger, file, signer=SIGN)  # seq 5
    await fill(ledger, 3, start=JANUARY + timedelta(days=30), tag="b")
    await prune(ledger, before=JANUARY + timedelta(days=1), signer=SIGN)  # removes 1..5
    assert (await check_head_checkpoints(ledger, checkpoints(file))).checked == 1

    forged = HeadCheckpoint(5, "e" * 64, JANUARY, FIRST_PREV, "sig")
    check = await check_head_checkpoints(ledger, [forged])
    assert len(check.contradictions) == 1 and entries[4].entry_hash[:16] in check.contradictions[0].detail


# --- several instances on one store ------------------------------------------------------------


async def test_instances_anchoring_one_shared_chain_at_once_write_linked_agreeing_checkpoints(
    database_url: str, ledger: AsyncEngine, tmp_path: Path
) -> None:
    """Two hub instances (engines) append and anchor concurrently: into one shared file
    (its lock orders them) and each into its own; every line agrees with the one chain."""
    second = create_async_engine(database_url)
    shared = CheckpointFile(tmp_path / "shared.jsonl")
    own = [CheckpointFile(tmp_path / "a.jsonl"), CheckpointFile(tmp_path / "b.jsonl")]

    async def instance(engine: AsyncEngine, mine: CheckpointFile, tag: str) -> None:
        for n in range(6):
            await append(engine, [sample_draft(request_id=f"{tag}-{n}", record_key=f"{1471080101900000 + n}")])
            await anchor_head(engine, shared, signer=SIGN)
            await anchor_head(engine, mine, signer=SIGN)

    try:
        await asyncio.gather(instance(ledger, own[0], "a"), instance(second, own[1], "b"))
    finally:
        await second.dispose()

    assert (await verify(ledger)).head_seq == 12
    for each in (shared, *own):
        reading = each.read()
        assert reading.problems == []
        found = checkpoints(each)
        assert found and all(c.signed_by(CHECK) for c in found)
        check = await check_head_checkpoints(ledger, found)
        assert check.contradictions == [] and check.checked == len(found)
    seqs = [c.seq for c in checkpoints(shared)]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)  # in head order, no line twice


async def test_concurrent_writers_of_one_file_in_separate_processes_keep_the_links(tmp_path: Path) -> None:
    """`flock` orders processes, not just tasks: four processes append 25 lines each."""
    path = tmp_path / "shared.jsonl"
    script = (  # the module alone: starting four interpreters with all of auth.ledger is slow
        "import importlib.util, sys\n"
        "spec = importlib.util.spec_from_file_location('anchor_file', sys.argv[3])\n"
        "module = sys.modules['anchor_file'] = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "f = module.CheckpointFile(sys.argv[1])\n"
        "for n in range(25):\n"
        "    with f.locked() as locked:\n"
        "        _, prev = locked.last()\n"
        "        locked.append({'writer': sys.argv[2], 'n': n, 'prev': prev})\n"
    )
    processes = [
        await asyncio.create_subprocess_exec(sys.executable, "-c", script, str(path), str(w), anchor_file.__file__)
        for w in range(4)
    ]
    assert [await p.wait() for p in processes] == [0, 0, 0, 0]
    reading = CheckpointFile(path).read()
    assert reading.problems == [] and reading.whole_lines == 100


def test_a_writer_holding_the_file_too_long_makes_the_next_give_up_not_hang(tmp_path: Path) -> None:
    file = CheckpointFile(tmp_path / "held.jsonl")
    with file.locked(), pytest.raises(TimeoutError, match="stayed locked"):
        file.lock(timeout=0.1)
    file.lock(timeout=0.1).release()  # free again once the holder lets go
