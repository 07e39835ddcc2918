"""The source side of the plug-in: entry point `simpul.sources` → `PLUGIN`.

    [sources.aid]
    backend = "csv"
    options = {path = "/srv/dtks/bansos.csv"}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.plugins import SourcePlugin
from simpul_village_aid.csv_source import CsvAidSource
from simpul_village_aid.protocol import AidSource


def _csv(source_id: str, config: Mapping[str, Any]) -> CsvAidSource:
    path = config.get("path")
    if not isinstance(path, str) or not path:
        raise ValueError(f"sources.{source_id}.options.path is required (the CSV export's path)")
    return CsvAidSource(path, source_id=source_id)


PLUGIN = SourcePlugin(
    source_id="aid",
    protocol=AidSource,
    backends={"csv": (_csv, frozenset({"path", "timeout"}))},
    description="social-assistance registry (CSV export)",
)
