"""The CSV export of the registry (one row per enrolment, `;`-separated, as the desk's
spreadsheet saves it), re-read when the file changes."""

from __future__ import annotations

import asyncio
import csv
import logging
import os
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from connectors.errors import SourceUnavailable
from connectors.nik import InvalidNik, parse_nik
from simpul_village_aid.records import STATUS_CODES, EnrolmentRecord, Programme

log = logging.getLogger("simpul.aid")

COLUMNS = ("NO_PESERTA", "NIK", "PROGRAM", "STATUS", "NOMINAL_BULANAN", "KODE_KELURAHAN",
           "TGL_MULAI", "NO_REKENING")


def _record(row: dict[str, str]) -> EnrolmentRecord:
    parse_nik(row["NIK"])
    amount = int(row["NOMINAL_BULANAN"])
    if amount < 0:
        raise ValueError("negative amount")
    return EnrolmentRecord(
        number=row["NO_PESERTA"].strip(),
        recipient_nik=row["NIK"].strip(),
        programme=Programme(row["PROGRAM"].strip()),
        status=STATUS_CODES[row["STATUS"].strip()],
        source_status=row["STATUS"].strip(),
        monthly_amount=amount,
        kelurahan_code=row["KODE_KELURAHAN"].strip(),
        since=date.fromisoformat(row["TGL_MULAI"].strip()),
        bank_account=row["NO_REKENING"].strip(),
    )


class CsvAidSource:
    """`AidSource` over a CSV file. A row that cannot be read is skipped with a warning
    and counted in `skipped` (by column); one bad row never fails a look-up."""

    def __init__(self, path: str | Path, *, source_id: str = "aid") -> None:
        self.path = Path(path)
        self.source_id = source_id
        self.skipped: Counter[str] = Counter()
        self.calls = 0
        self._by_nik: dict[str, list[EnrolmentRecord]] = {}
        self._stamp: tuple[int, int] | None = None
        self._lock = asyncio.Lock()

    def _read(self) -> dict[str, list[EnrolmentRecord]]:
        by_nik: dict[str, list[EnrolmentRecord]] = {}
        with self.path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle, delimiter=";")
            missing = set(COLUMNS) - set(reader.fieldnames or ())
            if missing:
                raise SourceUnavailable(self.source_id, "the registry export cannot be read",
                                        source_says=f"{self.path.name} lacks column(s) {sorted(missing)}")
            for line, row in enumerate(reader, start=2):
                try:
                    record = _record(row)
                except (KeyError, ValueError, InvalidNik, TypeError, AttributeError) as exc:
                    self.skipped[type(exc).__name__] += 1
                    log.warning("%s: line %d skipped: %s", self.path.name, line, exc)
                    continue
                by_nik.setdefault(record.recipient_nik, []).append(record)
        for records in by_nik.values():
            records.sort(key=lambda r: (r.since, r.number), reverse=True)
        return by_nik

    async def _current(self) -> dict[str, list[EnrolmentRecord]]:
        try:
            stat = os.stat(self.path)
        except OSError as exc:
            raise SourceUnavailable(self.source_id, "the registry export cannot be read",
                                    source_says=f"{self.path.name}: {exc.strerror}") from exc
        stamp = (stat.st_mtime_ns, stat.st_size)
        async with self._lock:
            if stamp != self._stamp:
                try:
                    self._by_nik = await asyncio.to_thread(self._read)
                except (OSError, UnicodeDecodeError, csv.Error) as exc:
                    raise SourceUnavailable(self.source_id, "the registry export cannot be read",
                                            source_says=f"{self.path.name}: {exc}") from exc
                self._stamp = stamp
        return self._by_nik

    async def enrolments_by_nik(self, niks: Sequence[str]) -> dict[str, list[EnrolmentRecord]]:
        self.calls += 1
        current = await self._current()
        return {nik: list(current[nik]) for nik in niks if nik in current}

    async def check(self) -> None:
        await self._current()

    async def aclose(self) -> None:
        return None
