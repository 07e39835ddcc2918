"""The real thing for hub tests: sample data and the sample services as separate programs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hub.demo import DemoSources, ensure_demo_data, start_demo_sources

REGION_FILE = Path(__file__).resolve().parents[2] / "hub" / "reference" / "regions.yaml"


@contextmanager
def demo_stack(data_dir: Path, *, residents: int = 400) -> Iterator[DemoSources]:
    ensure_demo_data(data_dir, residents=residents, region_file=REGION_FILE)
    stack = start_demo_sources(data_dir)
    try:
        yield stack
    finally:
        stack.stop()

