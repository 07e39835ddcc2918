"""Figures from the samples: per operation throughput, latency percentiles, errors,
source calls per request and the batching verdict, the hub's own time (latency less its
wait on the sources), each process's CPU per request; the table and the JSON."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from itertools import chain
from typing import Any

from bench.load import PhaseResult, Sample
from bench.operations import Operation
from bench.scaling import role_costs, role_of, saturation_lines


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of unsorted values; None for none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def batching(op: Operation, samples: Sequence[Sample]) -> dict[str, Any]:
    """Source calls per request against the nesting depth per source. OK when no
    successful request made more calls to a source than its depth (and none to a source
    the operation should not reach)."""
    answered = [s.calls for s in samples if s.error is None and s.calls is not None]
    sources = sorted(set(op.depth) | {source for calls in answered for source in calls})
    per_source = {}
    for source in sources:
        counts = [calls.get(source, 0) for calls in answered]
        per_source[source] = {
            "expected": op.depth.get(source, 0),
            "mean": _round(sum(counts) / len(counts)) if counts else None,
            "max": max(counts) if counts else None,
        }
    if not answered:
        verdict = "NO DATA"
    elif all(entry["max"] <= entry["expected"] for entry in per_source.values()):
        verdict = "OK"
    else:
        verdict = "FAIL"
    return {"verdict": verdict, "sources": per_source}


def summarise(op: Operation, samples: Sequence[Sample], seconds: float, *, with_calls: bool) -> dict[str, Any]:
    latencies = [s.ms for s in samples if s.error is None]
    errors = Counter(s.error for s in samples if s.error is not None)
    summary: dict[str, Any] = {
        "requests": len(samples),
        "rps": _round(len(samples) / seconds if seconds else 0.0, 1),
        "p50_ms": _round(percentile(latencies, 50)),
        "p95_ms": _round(percentile(latencies, 95)),
        "p99_ms": _round(percentile(latencies, 99)),
        "mean_ms": _round(sum(latencies) / len(latencies)) if latencies else None,
        "max_ms": _round(max(latencies)) if latencies else None,
        "errors": sum(errors.values()),
        "error_codes": dict(errors),
    }
    if with_calls:
        summary["batching"] = batching(op, samples)
        summary.update(own_time(samples))
        summary["wire"] = wire_bytes(samples)
    return summary


def wire_bytes(samples: Sequence[Sample]) -> dict[str, float | None]:
    """Mean bytes on the wire per answered request: the request whole (request line,
    headers with the bearer token, body) and the answer whole (status line, headers,
    body); None where the client does not count them."""
    answered = [s for s in samples if s.error is None and s.sent is not None and s.received is not None]
    bodies = [s.body for s in samples if s.error is None and s.body is not None]
    body = _round(sum(bodies) / len(bodies), 1) if bodies else None
    if not answered:
        return {"request_bytes": None, "request_body_bytes": body, "response_bytes": None}
    return {
        "request_bytes": _round(sum(s.sent for s in answered) / len(answered), 1),  # type: ignore[misc]
        "request_body_bytes": body,
        "response_bytes": _round(sum(s.received for s in answered) / len(answered), 1),  # type: ignore[misc]
    }


def own_time(samples: Sequence[Sample]) -> dict[str, float | None]:
    """The hub's own time per request: the latency less the hub's wait on the sources
    (`extensions.sourceWaitMs`), so GraphQL, policy, ledger and the HTTP hop, measured
    within each request (not against another phase's). Its p50, and the wait's p50."""
    answered = [s for s in samples if s.error is None and s.source_wait_ms is not None]
    return {
        "own_p50_ms": _round(percentile([s.ms - s.source_wait_ms for s in answered], 50)),  # type: ignore[operator]
        "source_wait_p50_ms": _round(percentile([s.source_wait_ms for s in answered], 50)),  # type: ignore[misc]
    }


def phase_summary(operations: Sequence[Operation], phase: PhaseResult) -> dict[str, Any]:
    with_calls = phase.name == "hub"
    requests = sum(len(phase.samples.get(op.name, [])) for op in operations)
    busy = phase.machine_cpu_seconds
    return {
        "seconds": phase.seconds,
        "processes": phase.processes,
        "cpu_ms_per_request": cpu_per_request(phase.processes, requests),
        # every process on the machine, this run's and anyone else's: cores kept busy on average
        "machine_busy_cores": round(busy / phase.seconds, 2) if busy is not None and phase.seconds else None,
        "operations": {
            op.name: summarise(op, phase.samples.get(op.name, []), phase.seconds, with_calls=with_calls)
            for op in operations
        },
    }


def cpu_per_request(processes: dict[str, dict[str, float]], requests: int) -> dict[str, float | None]:
    """Each process's CPU milliseconds per request of the phase (None without requests)."""
    return {name: _round(p["cpu_seconds"] * 1000 / requests, 3) if requests else None
            for name, p in processes.items()}


def sources_cpu(phase: dict[str, Any], sources: Sequence[str]) -> float | None:
    """The sample sources' CPU milliseconds per request in a phase, all sources together."""
    per_request = phase.get("cpu_ms_per_request") or {}
    values = [per_request.get(name) for name in sources]
    if not values or any(v is None for v in values):
        return None
    return round(sum(values), 2)  # type: ignore[arg-type]


def overhead(hub: dict[str, Any], direct: dict[str, Any]) -> dict[str, float | None]:
    """Hub p50 / direct p50, per operation."""
    ratios: dict[str, float | None] = {}
    for name, figures in hub["operations"].items():
        base = direct["operations"].get(name, {}).get("p50_ms")
        ratios[name] = _round(figures["p50_ms"] / base) if figures["p50_ms"] and base else None
    return ratios


#: operation -> hub p50 / direct p50 of each round (None where a side had no answer)
RoundRatios = dict[str, list[float | None]]


def overhead_by_round(hub: Sequence[PhaseResult], direct: Sequence[PhaseResult],
                      operations: Sequence[Operation]) -> RoundRatios:
    """`overhead` of each round on its own, per operation: the rounds alternate within
    minutes of each other, so their spread shows how far the machine's own drift moves
    the pooled ratio."""
    rounds = [overhead(phase_summary(operations, hub_round), phase_summary(operations, direct_round))
              for hub_round, direct_round in zip(hub, direct, strict=True)]
    return {op.name: [ratios[op.name] for ratios in rounds] for op in operations}


#: the fewest rounds a bootstrap interval is drawn from (fewer give too few distinct resamplings)
INTERVAL_MIN_ROUNDS = 5


def overhead_interval(hub: Sequence[PhaseResult], direct: Sequence[PhaseResult], operations: Sequence[Operation],
                      *, resamples: int = 1000, seed: int = 0) -> dict[str, list[float] | None]:
    """Per operation, the 95% bootstrap interval of the pooled ratio (hub p50 ÷ direct
    p50 of all rounds together): the rounds are drawn with replacement, each with its hub
    and its direct phase, and the ratio recomputed for each draw. It says how far the
    machine's drift between rounds could have moved the ratio the run reports. None with
    fewer than `INTERVAL_MIN_ROUNDS` rounds, or where a side had no answer."""
    count = len(hub)
    if count < INTERVAL_MIN_ROUNDS or len(direct) != count:
        return {op.name: None for op in operations}
    rng = random.Random(seed)
    draws = [[rng.randrange(count) for _ in range(count)] for _ in range(resamples)]
    intervals: dict[str, list[float] | None] = {}
    for op in operations:
        hub_ms = [_answered_ms(part, op.name) for part in hub]
        direct_ms = [_answered_ms(part, op.name) for part in direct]
        ratios = []
        for draw in draws:
            hub_p50 = percentile(list(chain.from_iterable(hub_ms[i] for i in draw)), 50)
            direct_p50 = percentile(list(chain.from_iterable(direct_ms[i] for i in draw)), 50)
            if hub_p50 is not None and direct_p50:
                ratios.append(hub_p50 / direct_p50)
        low, high = percentile(ratios, 2.5), percentile(ratios, 97.5)
        intervals[op.name] = [round(low, 2), round(high, 2)] if low is not None and high is not None else None
    return intervals


def _answered_ms(phase: PhaseResult, operation: str) -> list[float]:
    return [s.ms for s in phase.samples.get(operation, ()) if s.error is None]


def _interval(values: Sequence[float] | None) -> str:
    return "" if not values else f"{values[0]:.2f}-{values[1]:.2f}"


def _spread(values: Sequence[float | None]) -> str:
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return ""
    return f"{min(known):.2f}-{max(known):.2f}"


_SPAN_LEGEND = {
    "rounds": "the lowest and highest ratio of a single round",
    "95% range": "where the ratio falls in 95% of resamplings of the rounds",
}


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _calls(entry: dict[str, Any]) -> str:
    names = {"population": "pop", "licensing": "lic", "complaints": "com"}
    parts = [
        f"{names.get(source, source)} {_ms(figures['mean']) if figures['mean'] is not None else '-'}"
        f"/{figures['expected']}"
        for source, figures in entry["sources"].items()
    ]
    return " ".join(parts) or "none"


def workers_lines(hub: dict[str, Any], workers: Sequence[str], rps: float) -> list[str]:
    """`hub serve --workers N`: each worker's RSS and CPU per request, the hub's total
    (workers and supervisor) and the sources', at the measured throughput."""
    processes, per_request = hub["processes"], hub.get("cpu_ms_per_request") or {}
    lines = [f"{name}: peak RSS {processes[name]['peak_rss_mb']:.0f} MB, CPU {_ms(per_request.get(name))} ms per request"
             for name in workers]
    costs = role_costs(per_request)
    lines.append(f"{len(workers)} workers: {rps:.1f} requests/s; CPU per request: hub {costs['hub']:.2f} ms "
                 f"(workers and supervisor), sources {costs['sources']:.2f} ms")
    return lines


def table(results: dict[str, Any]) -> str:
    """The human-readable report."""
    lines = []
    hub = results["phases"]["hub"]
    direct = results["phases"].get("direct")
    ratios = results.get("overhead_p50") or {}
    by_round = results.get("overhead_p50_rounds") or {}
    intervals = results.get("overhead_p50_interval") or {}
    # with enough rounds, the ratio's 95% interval; with a few, the lowest and highest round
    if any(intervals.values()):
        column, spans = "95% range", {name: _interval(values) for name, values in intervals.items()}
    else:
        column, spans = "rounds", {name: _spread(values) for name, values in by_round.items()}
    spread = any(spans.values())
    head = (f"{'operation':<18} {'rps':>7} {'p50':>7} {'p95':>7} {'p99':>7} {'own':>6} {'err':>5}  "
            f"{'calls/req (mean/depth)':<28} batch")
    if direct:
        head += f"  {'direct p50':>10} {'ratio':>6}"
        if spread:
            head += f"  {column:>9}"
    lines += [head, "-" * len(head)]
    for name, f in hub["operations"].items():
        line = (f"{name:<18} {f['rps']:>7.1f} {_ms(f['p50_ms']):>7} {_ms(f['p95_ms']):>7} {_ms(f['p99_ms']):>7} "
                f"{_ms(f.get('own_p50_ms')):>6} {f['errors']:>5}  {_calls(f['batching']):<28} {f['batching']['verdict']}")
        if direct:
            d = direct["operations"].get(name, {})
            ratio = ratios.get(name)
            line += f"  {_ms(d.get('p50_ms')):>10} {('-' if ratio is None else f'{ratio:.2f}x'):>6}"
            if spread:
                line += f"  {spans.get(name, ''):>9}"
        lines.append(line)
    total = sum(f["rps"] for f in hub["operations"].values())
    lines.append(f"{'all':<18} {total:>7.1f}   (latencies in ms; own: p50 of latency less the hub's wait on the "
                 "sources; calls: mean source calls per request / nesting depth"
                 + (f"; {column}: {_SPAN_LEGEND[column]})" if spread else ")"))
    processes = hub.get("processes") or {}
    per_process = hub.get("cpu_ms_per_request") or {}
    if "hub" in processes:
        lines.append(f"hub peak RSS {processes['hub']['peak_rss_mb']:.0f} MB; hub CPU {_ms(per_process.get('hub'))} ms "
                     "per request; CPU seconds while measured: "
                     + ", ".join(f"{n} {p['cpu_seconds']:.1f}" for n, p in processes.items()))
    workers = [name for name in processes if name.startswith("hub worker")]
    if workers:
        lines.extend(workers_lines(hub, workers, total))
    sources = [name for name in processes if role_of(name) == "sources"]
    if direct and sources:
        in_hub, in_direct = sources_cpu(hub, sources), sources_cpu(direct, sources)
        if in_hub is not None and in_direct is not None:
            # the same source calls per request in both phases (but for a metrics refresh
            # of the hub's that falls in one): a difference is mostly the cost of sharing
            # the cores with the hub (see docs/performance.md)
            lines.append(f"sources' CPU per request ({', '.join(sources)}): {in_hub:.2f} ms in the hub phase, "
                         f"{in_direct:.2f} ms in the direct phase")
    wire = {name: f["wire"] for name, f in hub["operations"].items() if (f.get("wire") or {}).get("request_bytes")}
    if wire:
        lines.append("bytes on the wire per request (request, of which its body / response; request and "
                     "response each whole: line, headers, body): "
                     + "; ".join(f"{name} {w['request_bytes']:.0f}, {w['request_body_bytes']:.0f} / "
                                 f"{w['response_bytes']:.0f}" for name, w in wire.items()))
    if hub.get("machine_busy_cores") is not None:
        lines.append(f"busy cores while measured (every process on the machine, this run's or not): "
                     f"{hub['machine_busy_cores']:.2f}")
    if results.get("saturation"):
        lines.extend(saturation_lines(results["saturation"]))
    for name, f in hub["operations"].items():
        if f["error_codes"]:
            lines.append(f"errors in {name}: {f['error_codes']}")
    if direct:
        for name, f in direct["operations"].items():
            if f["error_codes"]:
                lines.append(f"direct errors in {name}: {f['error_codes']}")
    for notice in results.get("notices", ()):
        lines.append(f"note: {notice}")
    return "\n".join(lines)
