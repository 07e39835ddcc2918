"""`python -m bench.ledger` on a small ledger: it writes through both writers and verifies
every entry it wrote (rates are printed, not asserted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.ledger import main


async def test_the_ledger_benchmark_writes_and_verifies_every_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await main([
        "--url", f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}", "--entries", "120", "--batch", "40",
        "--singles", "4", "--concurrency", "2",
    ])
    out = capsys.readouterr().out
    # 120 in batches and 4 single-entry requests at 1 and at 2 writers, each through
    # append() and through the LedgerWriter
    assert "verify: 256 entries" in out, out
    assert out.count("entries/s") == 7, out  # two batched, four single-entry, one verify
