"""Graceful shutdown (hub.shutdown): `hub serve` under load gets SIGTERM; every request
in flight is answered 200, none is cut, every answered personal-data request has its
ledger entries and no other request has any, and `hub audit verify` passes. A request
longer than the grace period is cancelled at its end. WebSockets close with 1001."""

from __future__ import annotations

import asyncio
import logging
import signal
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn
import websockets
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from hub.cli import main
from hub.demo import DemoSources, write_demo_config
from hub.identity import hub_issuer
from hub.settings import load_settings
from hub.shutdown import GracefulServer, ShutdownHooks
from tests.support.hub_process import HubProcess, free_port, hub_serve

WARM_UP = "warm-up-request"
QUERY = "{ citizens(first: 3) { edges { node { nik fullName applications { number status } } } } }"


def _faults(stack: DemoSources, **setting: object) -> None:
    httpx.post(stack.url_of("licensing") + "/_admin/faults", json=setting,
               headers={"X-API-Key": stack.api_key}, timeout=5).raise_for_status()


@pytest.fixture
def slow_licensing(stack: DemoSources) -> Iterator[None]:
    """Every licensing call takes 700 ms, so that requests are in flight when SIGTERM comes."""
    _faults(stack, latency_ms=700)
    try:
        yield
    finally:
        _faults(stack, latency_ms=0, failure_rate=0, down=False)


def _headers(data_dir: Path, config: Path) -> dict[str, str]:
    settings = load_settings(config, data_dir=data_dir)
    token = hub_issuer(settings).issue(subject="t-officer", roles=["population_officer"], department="test")
    return {"Authorization": f"Bearer {token}", "X-Access-Purpose": "population-service"}


@dataclass
class Load:
    """What the callers saw, by request id."""

    sigterm_at: float | None = None
    sent: dict[str, float] = field(default_factory=dict)  # request id -> when it was sent
    answered: dict[str, int] = field(default_factory=dict)  # request id -> HTTP status
    refused: set[str] = field(default_factory=set)  # no connection: the listener was closed
    failed: dict[str, str] = field(default_factory=dict)  # request id -> the error after connecting
    ended: dict[str, float] = field(default_factory=dict)  # request id -> when its answer or error came

    def in_flight_at_sigterm(self) -> set[str]:
        """Sent before the signal and not yet answered when it came."""
        assert self.sigterm_at is not None
        return {rid for rid, at in self.sent.items()
                if at < self.sigterm_at < self.ended.get(rid, float("inf")) and rid not in self.refused}


async def _caller(hub: HubProcess, headers: dict[str, str], load: Load) -> None:
    """Requests one after another until the hub refuses the connection. A connection per
    request: after SIGTERM a new one is refused, which tells "not accepted" from "cut"."""
    async with httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0), timeout=30) as client:
        while True:
            rid = uuid.uuid4().hex
            load.sent[rid] = time.monotonic()
            try:
                response = await client.post(f"{hub.url}/graphql", json={"query": QUERY},
                                             headers={**headers, "X-Request-ID": rid})
            except httpx.ConnectError:
                load.refused.add(rid)
                return
            except httpx.HTTPError as exc:
                load.failed[rid] = repr(exc)
                return
            finally:
                load.ended[rid] = time.monotonic()
            load.answered[rid] = response.status_code
            assert response.headers["x-request-id"] == rid


async def _load_then_sigterm(hub: HubProcess, headers: dict[str, str], *, callers: int, sigterm_after: float) -> Load:
    load = Load()
    tasks = [asyncio.create_task(_caller(hub, headers, load)) for _ in range(callers)]
    await asyncio.sleep(sigterm_after)
    load.sigterm_at = time.monotonic()
    hub.process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
    return load


def _ledger_by_request(database: Path) -> Counter[str]:
    with sqlite3.connect(database) as conn:
        return Counter(rid for (rid,) in conn.execute("SELECT request_id FROM ledger_entries"))


@pytest.mark.usefixtures("slow_licensing")
def test_sigterm_under_load_cuts_no_request_and_loses_no_ledger_entry(
    stack: DemoSources, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, data_dir = write_demo_config(stack), tmp_path / "data"
    headers = _headers(data_dir, config)
    args = ("--config", str(config), "--data-dir", str(data_dir))
    with hub_serve(*args, log=tmp_path / "hub.log", env={"SIMPUL_SHUTDOWN_GRACE_SECONDS": "20"}) as hub:
        warm_up = httpx.post(f"{hub.url}/graphql", json={"query": QUERY},
                             headers={**headers, "X-Request-ID": WARM_UP}, timeout=30)
        assert warm_up.status_code == 200 and "errors" not in warm_up.json(), warm_up.text
        load = asyncio.run(_load_then_sigterm(hub, headers, callers=12, sigterm_after=2.5))
        assert hub.process.wait(timeout=60) == -signal.SIGTERM
        output = hub.output()

    in_flight = load.in_flight_at_sigterm()
    assert len(in_flight) >= 8, load  # most callers were waiting on the slow source
    assert in_flight <= set(load.answered), f"cut: {in_flight - set(load.answered)}; {load.failed}"
    assert set(load.answered.values()) == {200}
    assert not load.failed, load.failed
    assert load.refused, "every caller ends on a refused connection once the listener closed"
    assert "Traceback" not in output and "Cancel" not in output, output

    ledger = _ledger_by_request(data_dir / "hub.db")
    assert set(ledger) == set(load.answered) | {WARM_UP}, "entries of an unanswered request, or an answer without"
    per_request = set(ledger.values())
    assert len(per_request) == 1 and per_request.pop() >= 3  # the same records each time: 3 citizens at least
    assert main(["audit", "verify", "--config", str(config), "--data-dir", str(data_dir)]) == 0
    assert f"{ledger.total()} entries" in capsys.readouterr().out


@pytest.mark.usefixtures("stack")
def test_a_request_longer_than_the_grace_period_is_cancelled_at_its_end(stack: DemoSources, tmp_path: Path) -> None:
    config, data_dir = write_demo_config(stack), tmp_path / "data"
    headers = _headers(data_dir, config)
    args = ("--config", str(config), "--data-dir", str(data_dir))
    _faults(stack, latency_ms=0)
    with hub_serve(*args, log=tmp_path / "hub.log", env={"SIMPUL_SHUTDOWN_GRACE_SECONDS": "1.5"}) as hub:
        assert httpx.post(f"{hub.url}/graphql", json={"query": QUERY}, headers=headers, timeout=30).status_code == 200
        _faults(stack, latency_ms=4000)  # longer than the grace period
        try:
            result: dict[str, object] = {}

            def slow_request() -> None:
                try:
                    result["status"] = httpx.post(f"{hub.url}/graphql", json={"query": QUERY}, headers=headers,
                                                  timeout=30).status_code
                except httpx.HTTPError as exc:
                    result["error"] = exc

            caller = threading.Thread(target=slow_request)
            caller.start()
            time.sleep(0.8)
            started = time.monotonic()
            hub.process.send_signal(signal.SIGTERM)
            code = hub.process.wait(timeout=30)
            took = time.monotonic() - started
            caller.join(timeout=30)
        finally:
            _faults(stack, latency_ms=0)
        assert code == -signal.SIGTERM
        assert 1.4 < took < 3.5, took  # the grace period, then the rest of the shutdown
        assert "error" in result or result.get("status") != 200, result  # it did not finish in time
        assert "timeout graceful shutdown exceeded" in hub.output()
    assert main(["audit", "verify", "--config", str(config), "--data-dir", str(data_dir)]) == 0


# --- the hooks and WebSockets -----------------------------------------------------------------


async def test_hooks_run_once_together_and_a_failing_or_slow_hook_does_not_stop_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hooks = ShutdownHooks(grace_seconds=0.5)
    ran: list[str] = []

    async def quick() -> None:
        ran.append("quick")

    async def failing() -> None:
        raise RuntimeError("boom")

    async def slow() -> None:
        await asyncio.sleep(10)
        ran.append("slow")

    for hook in (quick, failing):
        hooks.register(hook)
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="hub.shutdown"):
        await asyncio.gather(hooks.run(), hooks.run())
    assert ran == ["quick"] and hooks.shutting_down
    assert "failing" in caplog.text and "boom" in caplog.text
    late = ShutdownHooks(grace_seconds=0.3)
    late.register(slow)
    late.register(quick)
    await late.run()
    assert time.monotonic() - started < 2 and ran == ["quick", "quick"]


def _socket_app(hooks: ShutdownHooks) -> Starlette:
    """A WebSocket endpoint that registers its close with the hooks, as the hub's
    subscription sockets do (hub.subscription_socket)."""
    open_sockets: set[WebSocket] = set()

    async def close_all() -> None:
        await asyncio.gather(*(ws.close(code=1001, reason="The server is shutting down") for ws in open_sockets))

    hooks.register(close_all)

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        open_sockets.add(websocket)
        try:
            while True:
                await websocket.receive_text()
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            open_sockets.discard(websocket)

    return Starlette(routes=[WebSocketRoute("/ws", endpoint)])


@pytest.mark.parametrize(("graceful", "expected"), [(True, 1001), (False, 1012)], ids=["hub.shutdown", "plain-uvicorn"])
async def test_websockets_close_with_1001_going_away(graceful: bool, expected: int) -> None:
    hooks = ShutdownHooks(grace_seconds=5)
    port = free_port()
    config = uvicorn.Config(_socket_app(hooks), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = GracefulServer(config, hooks) if graceful else uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as ws:
        await ws.send("hello")
        server.should_exit = True
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), timeout=10)
    await asyncio.wait_for(serving, timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == expected
