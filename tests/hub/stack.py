"""The real thing for hub tests: sample data, the sample services as separate programs,
and throwaway PostgreSQL databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from hub.demo import DemoSources, ensure_demo_data, start_demo_sources

REGION_FILE = Path(__file__).resolve().parents[2] / "hub" / "reference" / "regions.yaml"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


@contextmanager
def demo_stack(data_dir: Path, *, residents: int = 400) -> Iterator[DemoSources]:
    ensure_demo_data(data_dir, residents=residents, region_file=REGION_FILE)
    stack = start_demo_sources(data_dir)
    try:
        yield stack
    finally:
        stack.stop()


@contextmanager
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database (name returned as an asyncpg URL), dropped afterwards."""
    name = f"simpul_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
