"""Sample data left by an earlier release is generated again, not served: its databases
may lack tables this release's sample services read."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from demo.data_format import DATA_FORMAT
from hub.demo import demo_data_ready, ensure_demo_data

REGION_FILE = Path(__file__).resolve().parents[2] / "hub" / "reference" / "regions.yaml"


def test_data_of_another_format_is_generated_again(tmp_path: Path) -> None:
    first = ensure_demo_data(tmp_path, residents=40, region_file=REGION_FILE)
    assert first["format"] == DATA_FORMAT and demo_data_ready(tmp_path, 40) == first
    manifest = tmp_path / "manifest.json"
    # an earlier release's directory: no format in its manifest, a table this one reads is gone
    old = {k: v for k, v in first.items() if k != "format"}
    manifest.write_text(json.dumps(old))
    with sqlite3.connect(tmp_path / "licensing.db") as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        db.execute(f'DROP TABLE "{next(t for t in tables if "persyaratan" in t)}"')
    assert demo_data_ready(tmp_path, 40) is None
    again = ensure_demo_data(tmp_path, residents=40, region_file=REGION_FILE)
    assert again["format"] == DATA_FORMAT and again["applications"] == first["applications"]
    with sqlite3.connect(tmp_path / "licensing.db") as db:
        assert sorted(row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")) == sorted(tables)
    manifest.write_text(json.dumps({**again, "format": DATA_FORMAT + 1}))  # a later release's
    assert demo_data_ready(tmp_path, 40) is None
