"""The CSV backend on its own: records, order, bad rows, an unreadable export."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from aid_rows import write_export
from connectors.errors import SourceUnavailable
from simpul_village_aid.csv_source import CsvAidSource
from simpul_village_aid.protocol import AidSource
from simpul_village_aid.records import EnrolmentStatus, Programme
from tests.support.sample_world import build_world


def test_enrolments_are_read_per_nik_newest_first_and_bad_rows_are_skipped(tmp_path: Path) -> None:
    people = build_world().citizens
    path = write_export(tmp_path / "bansos.csv", people, extra_lines=[
        "BAD-1;1234;PKH;AKTIF;1;1471081001;2024-01-01;X",  # not a NIK
        f"BAD-2;{people[0].nik};PKH;ENTAH;1;1471081001;2024-01-01;X",  # unknown status
        f"BAD-3;{people[0].nik};PKH;AKTIF;-5;1471081001;2024-01-01;X",  # negative amount
    ])
    source = CsvAidSource(path)
    assert isinstance(source, AidSource)
    head = people[0]
    found = asyncio.run(source.enrolments_by_nik([head.nik, people[1].nik]))
    assert list(found) == [head.nik]  # the wife has none: absent, not empty
    assert [(e.programme, e.status) for e in found[head.nik]] == [
        (Programme.PKH, EnrolmentStatus.ACTIVE), (Programme.BPNT, EnrolmentStatus.ENDED)]
    assert sum(source.skipped.values()) == 3


def test_the_export_is_read_again_when_it_changes(tmp_path: Path) -> None:
    people = build_world().citizens
    path = write_export(tmp_path / "bansos.csv", people)
    source = CsvAidSource(path)
    assert len(asyncio.run(source.enrolments_by_nik([people[0].nik]))[people[0].nik]) == 2
    write_export(path, people, extra_lines=[f"BLT-1;{people[0].nik};BLT_DD;AKTIF;300000;1471081001;2025-01-01;A"])
    assert len(asyncio.run(source.enrolments_by_nik([people[0].nik]))[people[0].nik]) == 3


@pytest.mark.parametrize("content", [None, "NO_PESERTA;NIK\n1;2\n", b"\xff\xfe\x00bad"])
def test_a_missing_or_unreadable_export_is_source_unavailable_without_its_path(
    tmp_path: Path, content: str | bytes | None
) -> None:
    path = tmp_path / "secret-dir" / "bansos.csv"
    if content is not None:
        path.parent.mkdir()
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(SourceUnavailable) as caught:
        asyncio.run(CsvAidSource(path).check())
    assert "secret-dir" not in str(caught.value)
