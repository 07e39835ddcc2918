"""Generic fixtures for the sample-service tests: an in-process client that runs the
app's lifespan, a real service subprocess on a free port, and the database/client
fixtures the twin service tests share (each module names its `sample_service`)."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from tests.support.sample_service import SampleService

AsgiClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@asynccontextmanager
async def _asgi_client(
    app: Starlette, *, headers: dict[str, str] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """httpx over ASGI inside the app's lifespan (httpx's transport runs no lifespan)."""
    async with app.router.lifespan_context(app) as state:

        async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
            await app({**scope, "state": dict(state or {})}, receive, send)

        transport = httpx.ASGITransport(app=with_state)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        ) as client:
            yield client


@pytest.fixture
def asgi_client() -> AsgiClient:
    return _asgi_client


def _read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([proc.stdout], [], [], remaining)
        if ready:
            return proc.stdout.readline()
    return ""


@contextmanager
def _service_process(module: str, *args: str, timeout: float = 20.0) -> Iterator[str]:
    """Start `python -m <module> ... --port 0`, wait for `ready URL`, yield the URL."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", module, "--host", "127.0.0.1", "--port", "0", *args],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = _read_line(proc, timeout)
        if not line.startswith("ready "):
            proc.kill()
            _, err = proc.communicate(timeout=5)
            raise AssertionError(f"{module} did not start: {line!r} {err[-2000:]}")
        yield line.split(" ", 1)[1].strip()
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
        else:
            proc.communicate()


@pytest.fixture
def service_process() -> Callable[..., Any]:
    return _service_process


@pytest.fixture(scope="module")
def template_db(sample_service: SampleService, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Loaded once per module; each test gets its own copy of the file."""
    path = tmp_path_factory.mktemp(sample_service.name) / "template.db"
    sample_service.load(f"sqlite:///{path}")
    return path


@pytest.fixture
def db_url(sample_service: SampleService, template_db: Path, tmp_path: Path) -> str:
    target = tmp_path / f"{sample_service.name}.db"
    shutil.copyfile(template_db, target)
    return f"sqlite:///{target}"


@pytest.fixture
async def client(sample_service: SampleService, db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = sample_service.create_app(db_url=db_url, api_key=sample_service.api_key)
    async with _asgi_client(app, headers={"X-API-Key": sample_service.api_key}) as c:
        yield c
