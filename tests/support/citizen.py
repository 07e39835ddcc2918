"""The citizen page under test: a hub served by uvicorn on a port known before the app is
made (the identity provider's URLs name it), with the development identity provider, and
the steps of the page as a browser without JavaScript takes them (httpx)."""

from __future__ import annotations

import contextlib
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from hub.app import create_app
from hub.citizen.dev_idp import demo_citizen_settings
from hub.demo import DemoSources, demo_settings
from hub.settings import RateLimitSettings, Settings
from tests.support.browser import serving


@contextlib.contextmanager
def citizen_hub(stack: DemoSources, store_dir: Path, **overrides: Any) -> Iterator[tuple[str, Settings]]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    overrides.setdefault("rate_limits", RateLimitSettings(enabled=False))  # many requests from one address
    settings = demo_settings(stack, store_url=f"sqlite+aiosqlite:///{store_dir / 'hub.db'}",
                             citizen=demo_citizen_settings(url), **overrides)
    with serving(create_app(settings), sock) as served:
        assert served == url
        yield url, settings


def form_value(html: str, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert found, f"no {name} field in the page"
    return found.group(1)


def start_sign_in(client: httpx.Client, next_path: str | None = None) -> dict[str, str]:
    """The hub's redirect to the identity provider, as its query parameters."""
    answer = client.get("/warga/masuk", params={"lanjut": next_path} if next_path else None)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()} | {"_url": location.split("?")[0]}


def choose_resident(client: httpx.Client, params: dict[str, str], nik: str) -> str:
    """The development provider's answer (the callback URL with code and state)."""
    form = {k: v for k, v in params.items() if k != "_url"} | {"nik": nik}
    answer = client.post(params["_url"], data=form)
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def sign_in(client: httpx.Client, nik: str, next_path: str | None = None) -> httpx.Response:
    callback = choose_resident(client, start_sign_in(client, next_path), nik)
    return client.get(callback)


def cookie_header(response: httpx.Response) -> str:
    return next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("simpul_warga="))
