"""A sample service that pushes (demo.service_common.push): after each committed write it
signs a Standard Webhook naming its feed's newest position; a burst is one or a few
webhooks; reads, searches and refused writes push nothing; and a hub that is down or
hangs never fails or slows the service's own requests."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from typing import Any

from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from demo.complaints.app import create_app
from demo.service_common.push import FeedPush
from tests.demo.test_complaints_service import API_KEY, KEY_HEADER, NEW, sample_service  # noqa: F401
from tests.support.browser import serving

SECRET = "whsec_" + "c2ltcHVsLXRlc3Qtc2VjcmV0LWNvbXBsYWludHMtMzI="


def receiver(received: list[dict[str, Any]]) -> Starlette:
    """A hub stand-in that keeps what verifies under SECRET."""
    webhook = Webhook(SECRET)

    async def hook(request: Request) -> Response:
        body = await request.body()
        payload = webhook.verify(body, dict(request.headers))
        received.append({"id": request.headers["webhook-id"], **payload})
        return Response(status_code=204)

    return Starlette(routes=[Route("/hook", hook, methods=["POST"])])


async def until(predicate: Any, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "condition not reached in time"
        await asyncio.sleep(0.02)


async def feed_end(client: Any) -> str:
    answer = await client.get("/api/v1/perubahan", params={"since": "0", "limit": 1000})
    page = answer.json()
    while page["has_more"]:
        page = (await client.get("/api/v1/perubahan", params={"since": page["next_cursor"], "limit": 1000})).json()
    return str(page["next_cursor"])


async def test_a_committed_change_is_pushed_signed_and_a_burst_coalesces(db_url: str, asgi_client: Any) -> None:
    received: list[dict[str, Any]] = []
    with serving(receiver(received)) as url:
        app = create_app(db_url=db_url, api_key=API_KEY,
                         push=FeedPush(url=f"{url}/hook", secret=SECRET, source="complaints"))
        async with asgi_client(app, headers=KEY_HEADER) as client:
            assert (await client.post("/api/v1/laporan", json=NEW)).status_code == 201
            await until(lambda: received)
            end = await feed_end(client)
            assert received == [{"id": f"chg_complaints_{end}", "type": "feed.changed", "source": "complaints",
                                 "position": end}]
            for _ in range(5):
                assert (await client.post("/api/v1/laporan", json=NEW)).status_code == 201
            end = await feed_end(client)
            await until(lambda: received[-1]["position"] == end)
            assert 2 <= len(received) <= 6
            before = len(received)
            assert (await client.post("/api/v1/laporan/cari", json={"limit": 1})).status_code == 200
            assert (await client.post("/api/v1/laporan", json={"judul": "?"})).status_code == 400
            assert (await client.get("/api/v1/kategori")).status_code == 200
            await asyncio.sleep(0.5)
            assert len(received) == before  # nothing moved the feed: nothing pushed
            assert app.state.pusher.failed == 0


async def test_a_hub_that_is_down_or_hangs_never_fails_or_slows_the_services_requests(
    db_url: str, asgi_client: Any
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
    hanging = socket.create_server(("127.0.0.1", 0))  # accepts into the backlog, never answers
    with closed, hanging:
        for target, sock in (("down", closed), ("hanging", hanging)):
            push = FeedPush(url=f"http://127.0.0.1:{sock.getsockname()[1]}/hook", secret=SECRET,
                            source="complaints", timeout=0.5, retries=1, backoff=0.05)
            app = create_app(db_url=db_url, api_key=API_KEY, push=push)
            async with asgi_client(app, headers=KEY_HEADER) as client:
                for _ in range(3):
                    started = time.monotonic()
                    answer = await client.post("/api/v1/laporan", json=NEW)
                    assert answer.status_code == 201, (target, answer.text)
                    assert time.monotonic() - started < 0.4, target  # the push is not awaited
                await until(lambda: app.state.pusher.failed >= 1)  # noqa: B023
                assert app.state.pusher.sent == 0


def test_the_command_line_wants_the_url_and_the_secret_together(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for extra in (["--webhook-url", "http://127.0.0.1:1/h"], ["--webhook-secret", SECRET],
                  ["--webhook-url", "http://127.0.0.1:1/h", "--webhook-secret", "whsec_"],
                  ["--webhook-url", "ftp://x", "--webhook-secret", SECRET]):
        run = subprocess.run([sys.executable, "-m", "demo.complaints", "--db", f"sqlite:///{tmp_path / 'x.db'}",
                              "--api-key", "k", *extra], capture_output=True, text=True, timeout=60)
        assert run.returncode == 2 and "--webhook" in run.stderr, (extra, run.stderr)
