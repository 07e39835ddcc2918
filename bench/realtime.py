"""Live updates under load: N subscribers on one hub instance, and the feeds' failover.

    python -m bench.realtime --subscribers 5000 --events 20          # delivery
    python -m bench.realtime --subscribers 5000 --client-processes 4 # clients in 4 processes
    python -m bench.realtime --failover --subscribers 200            # two hubs, one Redis

Delivery: the sample sources and the hub (uvicorn, its own process, as in production)
start on sample data; N WebSocket clients (graphql-transport-ws; one process and one
asyncio loop, or `--client-processes K` processes with a loop each) each subscribe to `caseUpdates` as an analyst, so every event goes to
every subscriber (the worst case). The subscribers use `--subjects` distinct analyst
tokens in turn (50 by default): many dashboards, one policy, as in production; the
hub's live groups (hub.events.groups) share a run between callers of one policy,
never by subject. Then `--events` complaints are filed, one every
`--interval` seconds. A delivery's latency is the time from the moment the hub's
reader logged the event (`hub_events.logged` in the hub store: the reader has seen the
change and written it) to the moment a client received it; the client clock and the
hub's are the same machine's. Printed: p50/p95/p99/max over all deliveries, the p99 of
each event's last delivery, the hub's RSS (idle, with N sockets, after the events) and
its CPU over the event phase, the machine's load average, and whether every
subscriber got every event once.

Failover: a private redis-server on a free port, two hubs A and B on one hub store
(SQLite) and that Redis; subscribers on both. A complaint is filed every `--interval`
seconds; after a while the hub holding the feeds' lease is killed (SIGKILL: it lets go
of nothing). Printed: how long until the other took the lease (read from the store),
the longest delay of an event across the gap, whether every subscriber (those on
the killed hub reconnect to the other with `after:`) saw every event exactly once, the
delivery latency (p50/p99/max) of the events logged after the takeover (the gap's
backlog, logged at once, among them; and of the changes made after it alone),
separately for the resumed subscribers and the survivor's own, and the survivor's live
groups at the end (`simpul_subscription_groups` / `_grouped`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import websockets

from hub.demo import DemoSources, ensure_demo_data, start_demo_sources, write_demo_config
from hub.identity import development_issuer
from hub.processes import RunningService, start_service
from hub.settings import load_settings

REGION_FILE = Path(__file__).resolve().parents[1] / "hub" / "reference" / "regions.yaml"
PROTOCOL = "graphql-transport-ws"
QUERY = "subscription($after: String) { caseUpdates(after: $after) { id number status } }"
_ID_MARK = '"caseUpdates":{"id":"'


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# -- the processes ---------------------------------------------------------------------


def _hub_config(sources: DemoSources, work: Path, name: str, *, redis_url: str | None, store: Path) -> Path:
    base = write_demo_config(sources).read_text()
    lines = [f"store_url = {json.dumps('sqlite+aiosqlite:///' + str(store))}",
             f"data_dir = {json.dumps(str(sources.data_dir))}"]
    if redis_url:
        lines.append(f"redis_url = {json.dumps(redis_url)}")
    lines.append("trace_sources = false")
    path = work / f"{name}.toml"
    # top-level keys first, then the demo's tables, then the events table
    body = base.replace("trace_sources = true\n", "")
    path.write_text("\n".join(lines) + "\n" + body + "\n[events]\nmax_connections_per_principal = 100000\n"
                    "max_operations_per_connection = 5\nsubscriber_queue = 10000\n"
                    "\n[rate_limits]\nenabled = false\n")
    path.chmod(0o600)
    return path


def _start_hub(config: Path, name: str) -> RunningService:
    return start_service(name, "bench.server", ["--config", str(config)], timeout=120)


class _Redis:
    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("bench.realtime --failover needs redis-server")
        self.process = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(5)


# -- the subscribers ---------------------------------------------------------------------


@dataclass
class Subscriber:
    received: list[tuple[int, float]] = field(default_factory=list)  # (event id, time received)
    reconnects: int = 0


async def _subscribe(url: str, token: str, sub: Subscriber, ready: asyncio.Event | None,
                     fallback: str | None = None) -> None:
    """Subscribe and record every event; on a dropped socket, resume on `fallback` with `after`."""
    target = url
    while True:
        try:
            async with websockets.connect(target, subprotocols=[PROTOCOL], max_queue=None, open_timeout=60,
                                          ping_interval=None) as ws:
                await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
                ack = json.loads(await ws.recv())
                assert ack["type"] == "connection_ack", ack
                after = str(sub.received[-1][0]) if sub.received else None
                await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                          "payload": {"query": QUERY, "variables": {"after": after}}}))
                if ready is not None:
                    ready.set()
                    ready = None
                async for raw in ws:
                    now = time.time()
                    at = raw.find(_ID_MARK)  # cheaper than parsing: the client must not be the bottleneck
                    if at >= 0:
                        start = at + len(_ID_MARK)
                        sub.received.append((int(raw[start:raw.index('"', start)]), now))
                        continue
                    message = json.loads(raw)
                    if message.get("type") in ("error", "complete"):
                        raise RuntimeError(f"subscription ended: {message}")
            return
        except (OSError, websockets.ConnectionClosed):
            if fallback is None:
                return
            target, fallback = fallback, None
            sub.reconnects += 1
            await asyncio.sleep(0.2)


async def _connect_all(url: str, tokens: list[str], count: int, *, fallback: str | None = None,
                       batch: int = 250) -> tuple[list[Subscriber], list[asyncio.Task[None]]]:
    """`count` subscribers, the i-th with `tokens[i % len(tokens)]`."""
    subs, tasks = [], []
    for start in range(0, count, batch):
        events = []
        for index in range(start, start + min(batch, count - start)):
            sub, ready = Subscriber(), asyncio.Event()
            subs.append(sub)
            events.append(ready)
            token = tokens[index % len(tokens)]
            tasks.append(asyncio.create_task(_subscribe(url, token, sub, ready, fallback)))
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), 120)
    return subs, tasks


def _client_worker(url: str, tokens: list[str], count: int, conn: Any) -> None:
    """One client process (`--client-processes`): `count` subscribers on its own loop.
    Sends "ready" once they are subscribed; on ("drain", events) waits (60 s at most)
    until each has that many events, then sends back what each received and its CPU."""
    async def run() -> None:
        subs, tasks = await _connect_all(url, tokens, count)
        conn.send("ready")
        _, events = await asyncio.to_thread(conn.recv)
        deadline = time.monotonic() + 60
        while sum(len(s.received) for s in subs) < events * count and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        cpu = psutil.Process().cpu_times()
        conn.send(([s.received for s in subs], cpu.user + cpu.system))

    try:
        import uvloop

        uvloop.run(run())
    except ImportError:
        asyncio.run(run())


class _ClientProcesses:
    """`--client-processes` > 1: the subscribers spread over that many processes, so the
    figures measure the hub rather than one client loop."""

    def __init__(self, url: str, tokens: list[str], count: int, processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes, self.processes = [], []
        for index in range(processes):
            share = count // processes + (1 if index < count % processes else 0)
            parent, child = context.Pipe()
            mine = tokens[index:] + tokens[:index]  # the subjects stay spread over all processes
            process = context.Process(target=_client_worker, args=(url, mine, share, child), daemon=True)
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)
        self.cpu_before = [self._cpu(p) for p in self.processes]

    @staticmethod
    def _cpu(process: Any) -> float:
        try:
            times = psutil.Process(process.pid).cpu_times()
            return times.user + times.system
        except psutil.Error:
            return 0.0

    async def ready(self) -> None:
        for pipe in self.pipes:
            message = await asyncio.to_thread(pipe.recv)
            assert message == "ready", message

    def mark(self) -> None:
        self.cpu_before = [self._cpu(p) for p in self.processes]

    async def drain(self, events: int) -> tuple[list[Subscriber], list[float]]:
        for pipe in self.pipes:
            pipe.send(("drain", events))
        subs, cpu = [], []
        for pipe, before in zip(self.pipes, self.cpu_before, strict=True):
            received, total = await asyncio.to_thread(pipe.recv)
            subs.extend(Subscriber(received=[tuple(r) for r in got]) for got in received)
            cpu.append(total - before)
        for process in self.processes:
            process.join(10)
        return subs, cpu

    def stop(self) -> None:
        for process in self.processes:
            if process.is_alive():
                process.kill()


def _file_complaint(client: httpx.Client) -> str:
    answer = client.post("/api/v1/laporan", json={
        "judul": "Uji beban", "isi": "Laporan untuk mengukur pembaruan langsung.", "klasifikasi": "PENGADUAN",
        "kategori": "Infrastruktur", "kode_kelurahan": "1471081001", "lokasi": "Jl. Uji", "kanal": "WEBSITE",
        "kerahasiaan": "PUBLIK", "nik_pelapor": None})
    answer.raise_for_status()
    return str(answer.json()["no_tiket"])


def _live_groups(url: str) -> dict[str, float]:
    """The hub's shared runs and the subscriptions they serve (its /metrics)."""
    wanted = {"simpul_subscription_groups": "groups", "simpul_subscription_grouped": "members"}
    found: dict[str, float] = {}
    for line in httpx.get(f"{url}/metrics", timeout=30).text.splitlines():
        name, _, value = line.partition(" ")
        if name in wanted:
            found[wanted[name]] = float(value)
    return found


def _logged_times(store: Path) -> dict[int, float]:
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        return dict(db.execute("SELECT id, logged FROM hub_events").fetchall())


def _lease_holder(store: Path) -> str | None:
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1) as db:
            row = db.execute("SELECT holder FROM hub_feed_leases WHERE name = 'feeds'").fetchone()
        return row[0] if row else None
    except sqlite3.Error:
        return None


def _wait_positioned(store: Path, seconds: float = 60) -> None:
    """Until the readers have taken the lease and stored both feeds' positions."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1) as db:
                if db.execute("SELECT count(*) FROM hub_feed_positions").fetchone()[0] >= 2:
                    return
        except sqlite3.Error:
            pass
        time.sleep(0.2)
    raise SystemExit("the hub's readers did not start")


# -- delivery --------------------------------------------------------------------------


async def _delivery(args: argparse.Namespace, sources: DemoSources, work: Path) -> dict[str, Any]:
    store = work / "hub.db"
    hub = _start_hub(_hub_config(sources, work, "hub", redis_url=None, store=store), "hub")
    try:
        process = psutil.Process(hub.process.pid)
        _wait_positioned(store)
        settings = load_settings(work / "hub.toml")
        issuer = development_issuer(settings)
        tokens = [issuer.issue(subject=f"bench-dashboard-{n}", roles=["analyst"], ttl_seconds=7200)
                  for n in range(max(1, args.subjects))]
        ws_url = hub.url.replace("http://", "ws://") + "/graphql"
        rss_idle = process.memory_info().rss
        started = time.monotonic()
        clients: _ClientProcesses | None = None
        tasks: list[asyncio.Task[None]] = []
        if args.client_processes > 1:
            clients = _ClientProcesses(ws_url, tokens, args.subscribers, args.client_processes)
            await clients.ready()
        else:
            subs, tasks = await _connect_all(ws_url, tokens, args.subscribers)
        connect_seconds = time.monotonic() - started
        await asyncio.sleep(2)
        rss_connected = process.memory_info().rss
        groups = _live_groups(hub.url)
        complaints = httpx.Client(base_url=sources.url_of("complaints"), headers={"X-API-Key": sources.api_key})
        load_before = os.getloadavg()
        own = psutil.Process()
        own_before = sum(own.cpu_times()[:2])
        if clients is not None:
            clients.mark()
        cpu_before, wall_before = process.cpu_times(), time.monotonic()
        for _ in range(args.events):
            await asyncio.to_thread(_file_complaint, complaints)
            await asyncio.sleep(args.interval)
        if clients is not None:
            subs, client_cpu = await clients.drain(args.events)
            clients.stop()
        else:
            expected = args.events * args.subscribers  # wait for the deliveries still on their way (60 s at most)
            deadline = time.monotonic() + 60
            while sum(len(s.received) for s in subs) < expected and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
            client_cpu = [sum(own.cpu_times()[:2]) - own_before]
        cpu_after, wall_after = process.cpu_times(), time.monotonic()
        load_after = os.getloadavg()
        rss_after = process.memory_info().rss
        rss_peak = getattr(process.memory_full_info(), "uss", rss_after)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        complaints.close()
    finally:
        hub.stop()
    logged = _logged_times(store)
    ids = sorted(logged)
    latencies, last_per_event = [], {}
    complete = 0
    for sub in subs:
        got = [i for i, _ in sub.received]
        if got == ids[-len(got):] and len(got) == len(ids) and len(set(got)) == len(got):
            complete += 1
        for event_id, at in sub.received:
            if event_id in logged:
                delay = at - logged[event_id]
                latencies.append(delay)
                last_per_event[event_id] = max(last_per_event.get(event_id, 0.0), delay)
    cpu = (cpu_after.user + cpu_after.system - cpu_before.user - cpu_before.system) / (wall_after - wall_before)
    return {
        "subscribers": args.subscribers, "subjects": max(1, args.subjects), "events": len(ids),
        "deliveries": len(latencies),
        "expected_deliveries": len(ids) * args.subscribers,
        "subscribers_with_every_event_once": complete,
        "connect_seconds": round(connect_seconds, 1),
        "live_groups": groups,
        "latency_ms": {name: round(_percentile(latencies, q) * 1000, 1)
                       for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))},
        "last_delivery_per_event_ms": {"p50": round(_percentile(list(last_per_event.values()), 0.5) * 1000, 1),
                                       "p99": round(_percentile(list(last_per_event.values()), 0.99) * 1000, 1)},
        "hub_rss_mb": {"idle": round(rss_idle / 2**20, 1), "connected": round(rss_connected / 2**20, 1),
                       "after_events": round(rss_after / 2**20, 1), "uss_after": round(rss_peak / 2**20, 1)},
        "hub_cpu_percent_during_events": round(cpu * 100, 1),
        "client_processes": max(1, args.client_processes),
        "client_cpu_percent_each": [round(c / (wall_after - wall_before) * 100, 1) for c in client_cpu],
        "load_average_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "cores": os.cpu_count(),
    }


# -- failover --------------------------------------------------------------------------


async def _failover(args: argparse.Namespace, sources: DemoSources, work: Path) -> dict[str, Any]:
    store = work / "hub.db"
    redis = _Redis()
    hubs: list[RunningService] = []
    try:
        a = _start_hub(_hub_config(sources, work, "a", redis_url=redis.url, store=store), "hub-a")
        hubs.append(a)
        _wait_positioned(store)
        b = _start_hub(_hub_config(sources, work, "b", redis_url=redis.url, store=store), "hub-b")
        hubs.append(b)
        holder = _lease_holder(store) or ""
        victim, survivor = (a, b) if f":{a.process.pid}:" in holder else (b, a)
        settings = load_settings(work / "a.toml")
        token = development_issuer(settings).issue(subject="bench-failover", roles=["analyst"], ttl_seconds=7200)
        ws = {h.name: h.url.replace("http://", "ws://") + "/graphql" for h in hubs}
        half = args.subscribers // 2
        on_survivor, t1 = await _connect_all(ws[survivor.name], [token], args.subscribers - half)
        on_victim, t2 = await _connect_all(ws[victim.name], [token], half, fallback=ws[survivor.name])
        complaints = httpx.Client(base_url=sources.url_of("complaints"), headers={"X-API-Key": sources.api_key})
        filed: list[tuple[str, float]] = []
        killed_at = took_over_at = None
        end = time.monotonic() + args.failover_seconds
        kill_after = time.monotonic() + args.failover_seconds / 3
        while time.monotonic() < end:
            filed.append((await asyncio.to_thread(_file_complaint, complaints), time.time()))
            if killed_at is None and time.monotonic() >= kill_after:
                os.kill(victim.process.pid, signal.SIGKILL)
                killed_at = time.time()
            if killed_at is not None and took_over_at is None:
                now_holder = _lease_holder(store) or ""
                if f":{survivor.process.pid}:" in now_holder:
                    took_over_at = time.time()
            await asyncio.sleep(args.interval)
        while took_over_at is None and time.time() - (killed_at or time.time()) < 60:
            if f":{survivor.process.pid}:" in (_lease_holder(store) or ""):
                took_over_at = time.time()
            await asyncio.sleep(0.1)
        await asyncio.sleep(5)
        groups_at_end = _live_groups(survivor.url)
        for task in (*t1, *t2):
            task.cancel()
        await asyncio.gather(*t1, *t2, return_exceptions=True)
        complaints.close()
    finally:
        for hub in hubs:
            hub.stop()
        redis.stop()
    logged = _logged_times(store)
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        numbers = dict(db.execute("SELECT number, id FROM hub_events").fetchall())
    filed_ids = [numbers.get(number) for number, _ in filed]
    lost = sum(1 for i in filed_ids if i is None)
    first = min(i for i in filed_ids if i is not None)
    expected = [i for i in sorted(logged) if i >= first]

    def exact(sub: Subscriber) -> bool:
        got = [i for i, _ in sub.received if i >= first]
        return got == expected

    gap = max((logged[numbers[n]] - at for n, at in filed if n in numbers), default=float("nan"))
    since = took_over_at or float("inf")

    made_after = {numbers[n] for n, at in filed if n in numbers and at >= since}  # not the gap's backlog

    def after_takeover(subs: list[Subscriber], wanted: Any = lambda i: logged[i] >= since) -> dict[str, float]:
        """Delivery latency (ms) of the events the survivor logged after it took the feeds over."""
        delays = [at - logged[i] for s in subs for i, at in s.received if i in logged and wanted(i)]
        return {"deliveries": len(delays), **{name: round(_percentile(delays, q) * 1000, 1)
                                              for name, q in (("p50", 0.5), ("p99", 0.99), ("max", 1.0))}}

    return {
        "subscribers": args.subscribers, "events_filed": len(filed), "events_logged": len(expected), "lost": lost,
        "killed": victim.name,
        "lease_taken_over_after_s": round((took_over_at or float("nan")) - (killed_at or float("nan")), 2),
        "longest_change_to_logged_s": round(gap, 2),
        "survivor_subscribers_every_event_once": sum(exact(s) for s in on_survivor),
        "resumed_subscribers_every_event_once": sum(exact(s) for s in on_victim),
        "resumed_subscribers_reconnected": sum(1 for s in on_victim if s.reconnects),
        "events_after_takeover": sum(1 for i in expected if logged[i] >= since),
        "latency_after_takeover_ms": {"resumed": after_takeover(on_victim), "survivor": after_takeover(on_survivor)},
        "changes_made_after_takeover": len(made_after),
        "latency_of_changes_made_after_takeover_ms": {
            "resumed": after_takeover(on_victim, made_after.__contains__),
            "survivor": after_takeover(on_survivor, made_after.__contains__)},
        "survivor_live_groups_at_end": groups_at_end,
        "load_average": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.realtime", description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between changes")
    parser.add_argument("--client-processes", type=int, default=1,
                        help="spread the subscribers over this many client processes (delivery only)")
    parser.add_argument("--subjects", type=int, default=50,
                        help="distinct analyst tokens the subscribers use in turn (delivery only)")
    parser.add_argument("--residents", type=int, default=400)
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "simpul-bench-realtime")
    parser.add_argument("--failover", action="store_true")
    parser.add_argument("--failover-seconds", type=float, default=30.0)
    args = parser.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    ensure_demo_data(args.data_dir, residents=args.residents, region_file=REGION_FILE)
    sources = start_demo_sources(args.data_dir)
    work = Path(tempfile.mkdtemp(prefix="simpul-rt-"))
    try:
        run = _failover if args.failover else _delivery
        try:
            import uvloop

            result = uvloop.run(run(args, sources, work))
        except ImportError:
            result = asyncio.run(run(args, sources, work))
    finally:
        sources.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
