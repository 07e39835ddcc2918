"""What the shared sample-service fixtures (tests/demo/conftest.py) need of one
service's test module: each module returns one from its `sample_service` fixture."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.applications import Starlette


@dataclass(frozen=True)
class SampleService:
    name: str  # the database file's stem
    load: Callable[[str], int]  # fills a database URL with the module's records
    create_app: Callable[..., Starlette]
    api_key: str
