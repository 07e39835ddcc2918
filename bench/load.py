"""The load: closed-loop clients running the operation mix for a set time.

Each of `concurrency` clients runs every operation once, then picks operations by
weight (from its own seeded random stream), sends each and waits for the answer, over
and over until the time is up.
Requests that start during the warm-up are not kept. The same driver runs the hub
phase (GraphQL over HTTP) and the direct phase (the connectors, no GraphQL).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import psutil

from bench.client import Answer, ClientFailure, HubClient
from bench.direct import DirectSources
from bench.operations import Operation, Pick
from bench.samples import Samples, Tokens
from bench.scaling import POSTGRES


@dataclass(frozen=True, slots=True)
class Sample:
    ms: float
    error: str | None = None  # an error code; None when the request succeeded
    calls: dict[str, int] | None = None  # source id -> calls (from `extensions.sources`)
    source_wait_ms: float | None = None  # the hub's wait on the sources (`extensions.sourceWaitMs`)
    sent: int | None = None  # bytes on the wire: the whole request, and the whole answer
    received: int | None = None  # (known with the lean client only, see bench.client)
    body: int | None = None  # bytes of the request's JSON body alone


@dataclass
class PhaseResult:
    name: str  # "hub" or "direct"
    seconds: float  # the measured window
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    processes: dict[str, dict[str, float]] = field(default_factory=dict)  # name -> peak RSS, CPU
    machine_cpu_seconds: float | None = None  # busy CPU of every process on the machine, ours or not


def merged(name: str, parts: Sequence[PhaseResult]) -> PhaseResult:
    """One phase out of its rounds: samples together, peak memory the largest, CPU summed."""
    result = PhaseResult(name, sum(p.seconds for p in parts))
    machine = [p.machine_cpu_seconds for p in parts]
    result.machine_cpu_seconds = None if None in machine else round(sum(machine), 2)  # type: ignore[arg-type]
    for part in parts:
        for op, samples in part.samples.items():
            result.samples.setdefault(op, []).extend(samples)
        for proc, figures in part.processes.items():
            seen = result.processes.setdefault(proc, {"peak_rss_mb": 0.0, "cpu_seconds": 0.0})
            seen["peak_rss_mb"] = max(seen["peak_rss_mb"], figures["peak_rss_mb"])
            seen["cpu_seconds"] = round(seen["cpu_seconds"] + figures["cpu_seconds"], 2)
    return result


Runner = Callable[[Operation, Pick], Awaitable[Sample]]


def _cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


def _machine_busy() -> float:
    """CPU seconds all cores of the machine spent running anything since boot (user,
    nice, system, interrupts; on Linux a guest's time is inside user already)."""
    times = psutil.cpu_times()
    return sum(getattr(times, field, 0.0) for field in ("user", "nice", "system", "irq", "softirq"))


def postgres_backends(database: str) -> list[psutil.Process]:
    """The PostgreSQL server processes serving connections to `database` (their title
    is `postgres: [cluster:] user database host(port) state`)."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        words = " ".join(proc.info["cmdline"] or ()).split()
        if proc.info["name"] == "postgres" and words[:1] == ["postgres:"] and database in words[1:4]:
            found.append(proc)
    return found


class ProcessMonitor:
    """Peak RSS and CPU time of some processes (the hub, the sources, the load
    generator), sampled in the background while a phase runs; with `postgres_database`
    also the CPU of the PostgreSQL backends serving that database (found again at the
    end: a backend that exited meanwhile is missed), and the machine's busy CPU."""

    def __init__(self, pids: dict[str, int], *, interval: float = 0.1, postgres_database: str | None = None) -> None:
        self._procs = {name: psutil.Process(pid) for name, pid in pids.items()}
        self._interval = interval
        self._database = postgres_database
        self.peak_rss: dict[str, int] = dict.fromkeys(self._procs, 0)
        self.rss: dict[str, int] = dict.fromkeys(self._procs, 0)
        self._cpu_start: dict[str, float] = {}
        self._backends_start: dict[int, float] = {}
        self._machine_start = 0.0
        self.machine_cpu_seconds: float | None = None
        self._task: asyncio.Task[None] | None = None

    def _sample(self) -> None:
        for name, proc in self._procs.items():
            try:
                rss = proc.memory_info().rss
            except psutil.Error:
                continue
            self.rss[name] = rss
            self.peak_rss[name] = max(self.peak_rss[name], rss)

    async def _run(self) -> None:
        while True:
            self._sample()
            await asyncio.sleep(self._interval)

    def start(self) -> None:
        self._sample()
        self.mark()
        self._task = asyncio.create_task(self._run())

    def mark(self) -> None:
        """Count CPU time from now (the end of the warm-up)."""
        self._machine_start = _machine_busy()
        for name, proc in self._procs.items():
            try:
                self._cpu_start[name] = _cpu(proc)
            except psutil.Error:
                continue
        if self._database is not None:
            self._backends_start = {}
            for proc in postgres_backends(self._database):
                with contextlib.suppress(psutil.Error):
                    self._backends_start[proc.pid] = _cpu(proc)

    def _postgres(self) -> dict[str, float]:
        cpu, rss = 0.0, 0
        for proc in postgres_backends(self._database or ""):
            with contextlib.suppress(psutil.Error):
                cpu += _cpu(proc) - self._backends_start.get(proc.pid, 0.0)
                rss += proc.memory_info().rss
        return {"peak_rss_mb": round(rss / 2**20, 1), "cpu_seconds": round(cpu, 2)}

    async def stop(self) -> dict[str, dict[str, float]]:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._sample()
        self.machine_cpu_seconds = round(_machine_busy() - self._machine_start, 2)
        report = {}
        for name, proc in self._procs.items():
            try:
                cpu = _cpu(proc) - self._cpu_start.get(name, 0.0)
            except psutil.Error:
                cpu = float("nan")
            report[name] = {"peak_rss_mb": round(self.peak_rss[name] / 2**20, 1), "cpu_seconds": round(cpu, 2)}
        if self._database is not None:
            report[POSTGRES] = self._postgres()
        return report


class Progress:
    """A line a second on stderr: phase, time, requests per second, errors, hub RSS."""

    def __init__(self, phase: str, *, warmup: float, duration: float, monitor: ProcessMonitor | None,
                 enabled: bool) -> None:
        self.phase, self.warmup, self.duration = phase, warmup, duration
        self.monitor, self.enabled = monitor, enabled
        self.done = 0
        self.errors = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        started = time.perf_counter()
        last = 0
        while True:
            await asyncio.sleep(1.0)
            elapsed = time.perf_counter() - started
            stage = "warm-up" if elapsed < self.warmup else "measure"
            line = (f"  [{self.phase} {stage} {elapsed:5.1f}/{self.warmup + self.duration:.0f} s] "
                    f"{self.done - last:5d} req/s  errors {self.errors}")
            if self.monitor is not None and "hub" in self.monitor.rss:
                line += f"  hub RSS {self.monitor.rss['hub'] / 2**20:.0f} MB"
            last = self.done
            print(line, file=sys.stderr, flush=True)

    def start(self) -> None:
        if self.enabled:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def drive(
    phase: str,
    operations: Sequence[Operation],
    runner: Runner,
    *,
    samples: Samples,
    tokens: Tokens,
    concurrency: int,
    duration: float,
    warmup: float,
    seed: int,
    monitor: ProcessMonitor | None = None,
    progress: bool = True,
) -> PhaseResult:
    result = PhaseResult(phase, duration, {op.name: [] for op in operations})
    weights = [op.weight for op in operations]
    shown = Progress(phase, warmup=warmup, duration=duration, monitor=monitor, enabled=progress)
    started = time.perf_counter()
    measure_from = started + warmup
    deadline = measure_from + duration

    async def client(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        # every operation once first (from a different one per client), then the mix
        first_round = [operations[(index + i) % len(operations)] for i in range(len(operations))]
        while time.perf_counter() < deadline:
            op = first_round.pop(0) if first_round else rng.choices(operations, weights)[0]
            pick = op.pick(samples, tokens, rng)
            sent = time.perf_counter()
            sample = await runner(op, pick)
            shown.done += 1
            if sample.error is not None:
                shown.errors += 1
            if sent >= measure_from and sent < deadline:
                result.samples[op.name].append(sample)

    if monitor is not None:
        monitor.start()
        asyncio.get_running_loop().call_later(warmup, monitor.mark)
    shown.start()
    try:
        await asyncio.gather(*(client(i) for i in range(concurrency)))
    finally:
        await shown.stop()
        if monitor is not None:
            result.processes = await monitor.stop()
            result.machine_cpu_seconds = monitor.machine_cpu_seconds
    return result


def hub_runner(client: HubClient) -> Runner:
    """One GraphQL request over HTTP; the clock stops when the whole body is read."""

    async def run(op: Operation, pick: Pick) -> Sample:
        body = op.request_body(pick.variables)
        body_bytes = len(orjson.dumps(body))
        started = time.perf_counter()
        try:
            response = await client.post(body, pick.headers)
        except ClientFailure as exc:
            return Sample((time.perf_counter() - started) * 1000, exc.code)
        ms = (time.perf_counter() - started) * 1000
        return Sample(ms, *_outcome(response), sent=response.sent, received=response.received, body=body_bytes)

    return run


def _outcome(response: Answer) -> tuple[str | None, dict[str, int] | None, float | None]:
    """The request's error code (None: answered with data), its source calls per source
    and the hub's wait on the sources, as far as the response tells them."""
    try:
        payload: Any = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return f"HTTP_{response.status}", None, None
    if not isinstance(payload, dict):
        return f"HTTP_{response.status}", None, None
    extensions = payload.get("extensions") or {}
    calls: dict[str, int] = {}
    for entry in extensions.get("sources") or ():
        calls[entry["source"]] = calls.get(entry["source"], 0) + int(entry["calls"])
    wait = extensions.get("sourceWaitMs")
    wait = float(wait) if isinstance(wait, int | float) else None
    errors = payload.get("errors")
    if errors:
        code = ((errors[0] or {}).get("extensions") or {}).get("code") or "GRAPHQL_ERROR"
        return str(code), calls, wait
    if response.status != 200:
        return f"HTTP_{response.status}", calls, wait
    if payload.get("data") is None:
        return "NO_DATA", calls, wait
    return None, calls, wait


def first_error(response: Answer) -> str | None:
    """The first problem of a response, as a message for a person (None: no problem)."""
    error, _, _ = _outcome(response)
    if error is None:
        return None
    text = response.content[:300].decode(errors="replace")
    try:
        errors = orjson.loads(response.content).get("errors") or []
    except (orjson.JSONDecodeError, AttributeError):
        return f"{error}: {text}"
    return f"{error}: {errors[0].get('message') if errors else text}"


def direct_runner(sources: DirectSources) -> Runner:
    async def run(op: Operation, pick: Pick) -> Sample:
        started = time.perf_counter()
        try:
            await op.direct(sources, pick.key)
        except Exception as exc:  # noqa: BLE001 - counted as an error of this request
            return Sample((time.perf_counter() - started) * 1000, getattr(exc, "code", type(exc).__name__))
        return Sample((time.perf_counter() - started) * 1000)

    return run
