"""Soak of one REST source behind the hub's guard: the pattern that wedged the HTTP pool.

    python -m bench.soak [--seconds 600] [--data-dir DIR] [--concurrency 20]

Runs the sample licensing service as a separate program on a fixed port and loads the
guarded REST connector with more concurrent callers than pool slots, each caller giving
up at a random moment (as a client that disconnects cancels its request). It cycles,
until `--seconds` have passed, through:

    fast      the source answers at once
    slow      the source answers after 2 × the timeout: every call times out
    killed    the source process is killed (SIGKILL): connections reset, connects refused
    restarted the source runs again on the same port; the recovery time is measured
              from "ready" to the first answer and to a window of answers without error

and prints, at the end, the recovery times and the pool's state: every connection idle
and none held without a request ("stuck"). The soak test runs a short cycle; run this
longer to soak for real.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from connectors import RestLicensingSource
from connectors.errors import ConnectorError
from connectors.resilience import ResiliencePolicy, guarded, observe_stale
from hub.demo import demo_api_key, ensure_demo_data
from hub.processes import RunningService, start_service

REGION_FILE = Path(__file__).resolve().parents[1] / "hub" / "reference" / "regions.yaml"


@dataclass
class SoakResult:
    seconds: float
    cycles: int
    calls: Counter[str] = field(default_factory=Counter)
    recovery_first_ok: list[float] = field(default_factory=list)  # s from "ready" to an answer
    recovery_steady: list[float] = field(default_factory=list)  # s to a window without error
    circuit_cooldown: float = 0.0
    pool: dict[str, int] = field(default_factory=dict)
    final_ok: int = 0
    final_calls: int = 0

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["calls"] = dict(self.calls)
        return data


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LicensingProcess:
    """The sample licensing service on a fixed port, killed and restarted at will."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.args = ["--db", f"sqlite:///{data_dir / 'licensing.db'}",
                     f"--api-key={demo_api_key(data_dir)}", "--host", "127.0.0.1", "--port", str(port)]
        self.api_key = demo_api_key(data_dir)
        self.url = f"http://127.0.0.1:{port}"
        self.running: RunningService | None = None

    def start(self) -> None:
        self.running = start_service("licensing", "demo.licensing", self.args)

    def kill(self) -> None:
        if self.running is not None:
            self.running.process.kill()
            self.running.process.wait()
            self.running.stop()
            self.running = None

    async def set_latency(self, ms: int) -> None:
        async with httpx.AsyncClient(base_url=self.url, headers={"X-API-Key": self.api_key}) as client:
            (await client.post("/_admin/faults", json={"latency_ms": ms})).raise_for_status()


async def _caller(source: RestLicensingSource, numbers: list[str], stop: asyncio.Event,
                  calls: Counter[str], outcomes: list[tuple[float, bool]]) -> None:
    rng = random.Random()
    while not stop.is_set():
        started = time.monotonic()
        try:
            with observe_stale() as observed:
                async with asyncio.timeout(rng.choice([0.05, 0.15, 0.4, 1.0, 2.0])):
                    if rng.random() < 0.2:
                        await source.permit_types()
                    else:
                        await source.applications_by_number(rng.sample(numbers, 3))
            calls["stale" if observed.stale else "ok"] += 1  # a stale answer is no recovery
            outcomes.append((time.monotonic(), not observed.stale))
        except ConnectorError as exc:
            calls[type(exc).__name__] += 1
            outcomes.append((time.monotonic(), False))
        except TimeoutError:
            calls["caller gave up"] += 1
        elapsed = time.monotonic() - started
        if elapsed < 0.01:  # an open circuit answers at once: do not spin
            await asyncio.sleep(0.01)


async def soak(data_dir: Path, *, seconds: float, concurrency: int = 20, timeout: float = 0.5,
               cooldown: float = 2.0, max_connections: int = 10, log=print) -> SoakResult:  # type: ignore[no-untyped-def]
    ensure_demo_data(data_dir, residents=200, region_file=REGION_FILE)
    service = LicensingProcess(data_dir, free_port())
    service.start()
    inner = RestLicensingSource(service.url, api_key=service.api_key, timeout=timeout,
                                max_connections=max_connections)
    policy = ResiliencePolicy(timeout=timeout, retries=1, backoff=0.01, circuit_threshold=5,
                              circuit_cooldown=cooldown)
    source = guarded(inner, policy)
    result = SoakResult(seconds=seconds, cycles=0, circuit_cooldown=cooldown)
    try:
        page = await inner.list_applications(*_first_page())
        numbers = [a.number for a in page.items]
        stop = asyncio.Event()
        outcomes: list[tuple[float, bool]] = []
        callers = [asyncio.create_task(_caller(source, numbers, stop, result.calls, outcomes))  # type: ignore[arg-type]
                   for _ in range(concurrency)]
        ends = time.monotonic() + seconds
        try:
            while time.monotonic() < ends or result.cycles == 0:
                result.cycles += 1
                await asyncio.sleep(2.0)  # fast
                await service.set_latency(int(timeout * 2000))
                await asyncio.sleep(3.0)  # slow: every call times out, callers give up
                await service.set_latency(0)
                service.kill()
                await asyncio.sleep(3.0)  # killed: refused connects, open circuit
                service.start()
                ready = time.monotonic()
                first, steady = await _recovery(outcomes, ready, limit=cooldown * 3 + 10)
                result.recovery_first_ok.append(round(first, 3))
                result.recovery_steady.append(round(steady, 3))
                log(f"cycle {result.cycles}: first answer {first:.2f} s, steady {steady:.2f} s "
                    f"after the restart (cool-down {cooldown:g} s); pool {inner._http.pool_state()}")
        finally:
            stop.set()
            await asyncio.gather(*callers, return_exceptions=True)
        # the end: the source is fast; every call answers and the pool holds nothing
        final = await asyncio.gather(*(source.applications_by_number(numbers[:2]) for _ in range(30)),
                                     return_exceptions=True)
        result.final_calls = len(final)
        result.final_ok = sum(1 for r in final if not isinstance(r, BaseException))
        result.pool = asdict(inner._http.pool_state())
    finally:
        await source.aclose()
        service.kill()
    return result


def _first_page():  # type: ignore[no-untyped-def]
    from connectors.records import ApplicationFilter, PageRequest

    return ApplicationFilter(), PageRequest(first=50)


async def _recovery(outcomes: list[tuple[float, bool]], ready: float, *, limit: float) -> tuple[float, float]:
    """Seconds from `ready` to the first success, and to the end of the first second
    of calls without any error (inf if not within `limit`)."""
    first = steady = float("inf")
    while time.monotonic() - ready < limit:
        await asyncio.sleep(0.05)
        after = [(t, ok) for t, ok in outcomes if t >= ready]
        if first == float("inf"):
            first = next((t - ready for t, ok in after if ok), float("inf"))
        if first != float("inf"):
            for t, ok in after:
                if not ok or t - ready < first:
                    continue
                window = [o for s, o in after if t <= s <= t + 1.0]
                if window and all(window) and after[-1][0] >= t + 1.0:
                    return first, t + 1.0 - ready
    return first, steady


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--cooldown", type=float, default=2.0, help="circuit cool-down (s)")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        data_dir = args.data_dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        result = asyncio.run(soak(data_dir, seconds=args.seconds, concurrency=args.concurrency,
                                  cooldown=args.cooldown))
    print(json.dumps(result.as_dict(), indent=2))
    healthy = result.final_ok == result.final_calls and result.pool.get("stuck", 1) == 0
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
