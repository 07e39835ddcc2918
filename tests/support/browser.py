"""Browser tests' shared pieces: the hub served by uvicorn on a free 127.0.0.1 port in
a thread, and Debian's Chromium driven by Playwright (its own download fails offline)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import ASGIApp

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: flags that keep Chromium from reaching the network in the background
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
NO_CHROMIUM = "needs Debian's chromium package (apt-get install chromium) at /usr/bin/chromium"


def has_chromium() -> bool:
    return Path(CHROMIUM).exists()


@contextlib.contextmanager
def serving(app: ASGIApp, sock: socket.socket | None = None) -> Iterator[str]:
    """`app` (its lifespan included) on a free 127.0.0.1 port (or on `sock`, bound already,
    for an app that must know its URL before it is made) until the block ends; yields its URL."""
    if sock is None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the hub did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextlib.contextmanager
def chromium(sync_api: Any) -> Iterator[Any]:
    """Headless Chromium through Playwright's sync API (the module, imported by the caller
    with `pytest.importorskip`)."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
