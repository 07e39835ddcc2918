"""The example plug-in's tests, collected by the hub's `pytest` (pyproject `testpaths`).

The plug-in is not installed for them: `plugin_path` writes a dist-info directory that
declares its two entry points, as `pip install` would, and `tests/installed/` runs in a
fresh interpreter with that directory on its path, so the hub discovers the plug-in
exactly as it would an installed one (the hub's tests keep running without it)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1]
SRC = EXAMPLE / "src"
REPO = EXAMPLE.parents[1]

collect_ignore = ["installed"]  # run by test_discovered_end_to_end.py in a fresh interpreter

if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

ENTRY_POINTS = """\
[simpul.schema]
aid = simpul_village_aid.schema_part:PLUGIN

[simpul.sources]
aid = simpul_village_aid.connector:PLUGIN
"""


def write_dist_info(site: Path) -> Path:
    """`site` holding the distribution's metadata as an install writes it."""
    info = site / "simpul_village_aid-0.1.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: simpul-village-aid\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    return site


@pytest.fixture
def plugin_path(tmp_path: Path) -> Path:
    return write_dist_info(tmp_path / "site")
