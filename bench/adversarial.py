"""How long the hub takes to refuse (or answer) documents built to make validation
expensive, and whether other requests wait meanwhile.

    python -m bench.adversarial [--budget BYTES ...] [--repeat N] [--rounds N] [--no-accepted] [--no-live]

1. Generated documents (bench.adversarial_documents: every family, filled to each
   budget, by default 15 KB and the hub's body limit) are sent by an anonymous caller
   to the hub in this process (Starlette's TestClient over in-memory sources), each
   under a new text every time so that no cache answers; prints each one's answer
   code and time (the best of `--repeat`; wall and this process's CPU time), then
   the largest document of each family the hub still accepts, and the worst found.
2. The hub under uvicorn in its own process (127.0.0.1, a free port): while the ten
   slowest of those documents arrive at once (`--rounds` times, new texts each round),
   /healthz is probed back to back; prints the probes' p50 and max latency, and the
   ten documents' answer codes and times.

The same script measures an older hub (before the document limits) when run against
its code: `PYTHONPATH=/path/to/old/checkout python bench/adversarial.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

if __package__ in (None, ""):  # a script run against another checkout's hub (PYTHONPATH)
    from adversarial_documents import FAMILIES, QUADRATIC, body_size, documents, largest, unique
else:
    from bench.adversarial_documents import FAMILIES, QUADRATIC, body_size, documents, largest, unique

BUDGETS = (15 * 1024, 256 * 1024)  # the 15 KB, and the hub's body limit (MAX_BODY_BYTES)
CONCURRENT = 10
TOO_COMPLEX = "QUERY_TOO_COMPLEX"


def _hub(data_dir: Path):  # type: ignore[no-untyped-def]
    """The hub over empty in-memory sources, rate limits off (they would answer first)."""
    from connectors.memory import InMemoryComplaintSource, InMemoryLicensingSource, InMemoryPopulationSource
    from hub.app import create_app
    from hub.settings import Settings
    from schema.sources import Sources

    settings = Settings(
        data_dir=data_dir,
        store_url=f"sqlite+aiosqlite:///{data_dir / 'hub.db'}",
        issuer={"development": True},  # type: ignore[arg-type]
        metrics_refresh_seconds=0,
        freeze_heap_after_start=True,  # as `hub serve` runs in production (hub.heap)
    )
    settings = settings.model_copy(
        update={"rate_limits": settings.rate_limits.model_copy(update={"enabled": False})}
    )
    sources = Sources(InMemoryPopulationSource(), InMemoryLicensingSource(), InMemoryComplaintSource())
    return create_app(settings, sources=sources)


def _code(response) -> str:  # type: ignore[no-untyped-def]
    try:
        errors = response.json().get("errors") or ()
    except ValueError:
        return f"HTTP {response.status_code}"
    return str(errors[0].get("extensions", {}).get("code")) if errors else "ok"


# -- 1. in process ---------------------------------------------------------------------


class _Timed:
    """Sends generated documents to the hub in this process, each as a new text."""

    def __init__(self, client) -> None:  # type: ignore[no-untyped-def]
        self.client = client
        self.sent = 0

    def send(self, family: str, document: str) -> tuple[float, float, str]:
        """(wall seconds, CPU seconds of this process, answer code)."""
        self.sent += 1
        started, cpu = time.perf_counter(), time.process_time()
        response = self.client.post("/graphql", json=unique(family, document, self.sent))
        return time.perf_counter() - started, time.process_time() - cpu, _code(response)

    def best(self, family: str, document: str, repeat: int) -> tuple[float, float, str]:
        runs = [self.send(family, document) for _ in range(repeat)]
        return min(r[0] for r in runs), min(r[1] for r in runs), runs[-1][2]


Result = tuple[float, float, str, int, str, str]  # wall, cpu, family, budget, code, document


def _line(family: str, document: str, wall: float, cpu: float, code: str) -> str:
    return f"  {family:22} {body_size(document):8,} B  {code:26} {wall * 1000:8.1f} ms  (CPU {cpu * 1000:6.1f} ms)"


def in_process(budgets: Sequence[int], repeat: int, accepted: bool) -> list[Result]:
    """Every family filled to each budget and, with `accepted`, the largest document of
    each family the hub still accepts; slowest first."""
    from starlette.testclient import TestClient

    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp, TestClient(_hub(Path(tmp))) as client:
        timed = _Timed(client)
        for budget in budgets:
            print(f"filled to {budget:,} B:")
            for family, document in documents(budget).items():
                wall, cpu, code = timed.best(family, document, repeat)
                results.append((wall, cpu, family, budget, code, document))
                print(_line(family, document, wall, cpu, code), flush=True)
        if accepted:
            print(f"the largest the hub accepts (within {max(budgets):,} B):")
            for family, grow in FAMILIES.items():
                def fits(document: str, family: str = family) -> bool:
                    return body_size(document) <= max(budgets) and timed.send(family, document)[2] != TOO_COMPLEX

                document = largest(grow, fits)
                wall, cpu, code = timed.best(family, document, repeat)
                results.append((wall, cpu, family, 0, code, document))
                print(_line(family, document, wall, cpu, code), flush=True)
    return sorted(results, key=lambda r: r[1], reverse=True)  # by CPU: steadier than wall time on a busy machine


# -- 2. live -----------------------------------------------------------------------------


def serve(data_dir: Path) -> None:
    """The hub under uvicorn on a free port of 127.0.0.1; prints `ready URL`."""
    import socket

    import uvicorn

    class Ready(uvicorn.Server):
        async def startup(self, sockets=None) -> None:  # type: ignore[no-untyped-def]
            await super().startup(sockets)
            print(f"ready http://{host}:{port}", flush=True)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(_hub(data_dir), log_level="warning", access_log=False, lifespan="on")
    Ready(config).run(sockets=[sock])


@contextmanager
def live_hub() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", tmp],
            stdout=subprocess.PIPE, text=True, env=os.environ.copy(),
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line.startswith("ready "):
                raise RuntimeError(f"the hub did not start: {line!r}")
            yield line.split()[1]
        finally:
            process.terminate()
            process.wait(timeout=30)


Latencies = list[float]


async def _attack(
    url: str, worst: Sequence[tuple[str, str]], rounds: int
) -> tuple[Latencies, Latencies, list[tuple[float, str]]]:
    """(/healthz alone, /healthz while the documents arrive, the documents' answers)."""
    import httpx

    alone: Latencies = []
    probes: Latencies = []
    answers: list[tuple[float, str]] = []
    async with httpx.AsyncClient(base_url=url, timeout=600) as prober, \
            httpx.AsyncClient(base_url=url, timeout=600, limits=httpx.Limits(max_connections=CONCURRENT)) as sender:
        for _ in range(50):  # the machine's own noise, connected before the first round
            started = time.perf_counter()
            await prober.get("/healthz")
            alone.append(time.perf_counter() - started)

        async def send(family: str, document: str, tag: str) -> None:
            started = time.perf_counter()
            response = await sender.post("/graphql", json=unique(family, document, tag))
            answers.append((time.perf_counter() - started, _code(response)))

        for round_ in range(rounds):
            attack = asyncio.gather(*(send(f, d, f"{round_}-{i}") for i, (f, d) in enumerate(worst)))
            while not attack.done():
                started = time.perf_counter()
                await prober.get("/healthz")
                probes.append(time.perf_counter() - started)
            await attack
    return alone, probes, answers


def live(worst: Sequence[tuple[str, str]], rounds: int) -> tuple[Latencies, Latencies, list[tuple[float, str]]]:
    with live_hub() as url:
        return asyncio.run(_attack(url, worst, rounds))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.adversarial", description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=int, action="append", help="request body bytes (repeatable)")
    parser.add_argument("--repeat", type=int, default=3, help="sends per document in process (best kept)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of ten documents at once, live")
    parser.add_argument("--no-accepted", action="store_true", help="skip the search for the largest accepted")
    parser.add_argument("--no-live", action="store_true", help="skip the uvicorn part")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    budgets = args.budget or BUDGETS
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"1. generated documents, anonymous, in process (best of {args.repeat}, a new text each send):")
    results = in_process(budgets, args.repeat, accepted=not args.no_accepted)
    wall, cpu, family, budget, code, _ = results[0]
    where = f"{budget:,} B budget" if budget else "largest accepted"
    print(f"worst: {wall * 1000:.1f} ms, CPU {cpu * 1000:.1f} ms ({family}, {where}, {code})")
    quadratic = next(r for r in results if r[2] in QUADRATIC)
    print(f"worst of the quadratic families: {quadratic[0] * 1000:.1f} ms, CPU {quadratic[1] * 1000:.1f} ms "
          f"({quadratic[2]}, {quadratic[4]})")
    if args.no_live:
        return 0
    slowest = results[:CONCURRENT]
    print(f"\n2. live hub (uvicorn, 127.0.0.1): the {CONCURRENT} slowest documents at once, {args.rounds} rounds: "
          + ", ".join(r[2] for r in slowest))
    alone, probes, answers = live([(r[2], r[5]) for r in slowest], args.rounds)
    codes = sorted({c for _, c in answers})
    for label, latencies in (("alone", alone), ("while they arrive", probes)):
        print(f"/healthz {label}: {len(latencies)} probes, p50 {statistics.median(latencies) * 1000:.1f} ms, "
              f"max {max(latencies) * 1000:.1f} ms")
    print(f"the documents: answered in p50 {statistics.median(a for a, _ in answers) * 1000:.1f} ms, "
          f"max {max(a for a, _ in answers) * 1000:.1f} ms; codes {', '.join(codes)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
