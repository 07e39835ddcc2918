"""Throughput at saturation, and what the machine allows: `hub bench --saturate`.

The run raises the clients 1, 2, 4, ... up to `--concurrency` and stops once two steps
in a row add less than `SATURATION_GAIN` to the best throughput before them: the best
step is the throughput at saturation. Each step measures every process's CPU per request, grouped
by role (`role_of`): the hub (workers and supervisor), the sample sources, the hub
store's PostgreSQL backends, the load generator.

The model (docs/performance.md, "Scaling with workers"): with per-request CPU costs
`c_role` in ms, `cores` cores and `workers` hub processes, no throughput can exceed

    cores * 1000 / sum(c)          the cores are shared by every process of the run
    workers * 1000 / c_hub         a hub worker is one event loop: one core at most
    1000 / c_p                     each single-process role (a source, the load generator)

and the ideal is the least of these. `python -m bench.compare` sets two runs side by
side (bench.compare).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: a step that adds less than this share to the best throughput so far ends the search
SATURATION_GAIN = 0.05
LOAD_GENERATOR = "load generator"
POSTGRES = "postgres (store)"
ROLES = ("hub", "sources", "postgres", LOAD_GENERATOR)


def concurrency_steps(most: int) -> list[int]:
    """1, 2, 4, ... and `most` itself last."""
    steps = [1]
    while steps[-1] * 2 < most:
        steps.append(steps[-1] * 2)
    if steps[-1] != most:
        steps.append(most)
    return steps


def saturated(rps: Sequence[float], *, gain: float = SATURATION_GAIN) -> bool:
    """Whether the last two steps each added less than `gain` to the best before them
    (two, not one: on a shared machine one step can lose to a neighbour's burst)."""
    if len(rps) < 3:
        return False
    return all(rps[i] < max(rps[:i]) * (1 + gain) for i in (-2, -1))


def role_of(process: str) -> str:
    """The role of a process named in a phase's figures."""
    if process.startswith("hub"):
        return "hub"
    if process == POSTGRES:
        return "postgres"
    if process == LOAD_GENERATOR:
        return LOAD_GENERATOR
    return "sources"


def role_costs(per_request: Mapping[str, float | None]) -> dict[str, float]:
    """CPU ms per request summed by role (a process without a figure counts 0)."""
    costs = dict.fromkeys(ROLES, 0.0)
    for process, ms in per_request.items():
        costs[role_of(process)] += ms or 0.0
    return {role: round(ms, 3) for role, ms in costs.items()}


def ideal_rps(per_request: Mapping[str, float | None], *, cores: int, workers: int) -> tuple[float | None, str]:
    """The model's most requests per second, and the bound that sets it."""
    costs = role_costs(per_request)
    total = sum(costs.values())
    if total <= 0 or costs["hub"] <= 0:
        return None, "no CPU measured"
    bounds = {f"{cores} cores shared": cores * 1000 / total,
              f"{workers} hub worker{'s' if workers > 1 else ''}": workers * 1000 / costs["hub"]}
    for process, ms in per_request.items():  # each of these runs in one single-threaded process
        if role_of(process) in ("sources", LOAD_GENERATOR) and ms:
            bounds[f"{process} (one process)"] = 1000 / ms
    limit = min(bounds, key=bounds.__getitem__)
    return round(bounds[limit], 1), limit


def step_summary(concurrency: int, phase: Mapping[str, Any]) -> dict[str, Any]:
    """One step of the search, from its `phase_summary`."""
    rps = sum(f["rps"] for f in phase["operations"].values())
    p99 = [f["p99_ms"] for f in phase["operations"].values() if f["p99_ms"] is not None]
    errors = sum(f["errors"] for f in phase["operations"].values())
    return {"concurrency": concurrency, "rps": round(rps, 1), "worst_p99_ms": max(p99, default=None),
            "errors": errors, "cpu_ms_per_request": role_costs(phase.get("cpu_ms_per_request") or {}),
            "machine_busy_cores": phase.get("machine_busy_cores")}


def saturation(steps: Sequence[tuple[int, Mapping[str, Any]]], *, cores: int, workers: int) -> dict[str, Any]:
    """The search's steps and its figures at saturation (the step of the most requests
    per second): CPU per request by role, requests per hub CPU-second, the model's ideal
    and how much of it was reached."""
    rows = [step_summary(concurrency, phase) for concurrency, phase in steps]
    best = max(range(len(rows)), key=lambda i: rows[i]["rps"])
    per_request = steps[best][1].get("cpu_ms_per_request") or {}
    costs = rows[best]["cpu_ms_per_request"]
    ideal, bound = ideal_rps(per_request, cores=cores, workers=workers)
    rps = rows[best]["rps"]
    return {
        "cores": cores, "workers": workers, "steps": rows,
        "at": {
            "concurrency": rows[best]["concurrency"], "rps": rps,
            "cpu_ms_per_request": costs,
            "rps_per_hub_cpu_second": round(1000 / costs["hub"], 1) if costs["hub"] else None,
            "ideal_rps": ideal, "ideal_bound": bound,
            "efficiency": round(rps / ideal, 2) if ideal else None,
            "machine_busy_cores": rows[best]["machine_busy_cores"],
        },
        # the search stopped by its rule, or a step after the best added too little: more clients did not help
        "reached": saturated([r["rps"] for r in rows])
                   or any(r["rps"] < rps * (1 + SATURATION_GAIN) for r in rows[best + 1:]),
    }


def saturation_lines(figures: Mapping[str, Any]) -> list[str]:
    """The report's lines for `saturation`."""
    at = figures["at"]
    lines = [f"saturation search ({figures['workers']} hub worker(s), {figures['cores']} cores): "
             "clients, requests/s, worst p99 ms, CPU ms per request: hub / sources / postgres / load generator; "
             "busy cores (every process on the machine)"]
    for row in figures["steps"]:
        cost = row["cpu_ms_per_request"]
        busy = row["machine_busy_cores"]
        lines.append(f"  {row['concurrency']:>4} {row['rps']:>8.1f} {row['worst_p99_ms'] or 0:>8.1f}   "
                     + " / ".join(f"{cost[r]:.2f}" for r in ROLES)
                     + (f"   {busy:.2f}" if busy is not None else "")
                     + (f"   errors {row['errors']}" if row["errors"] else ""))
    verdict = "" if figures["reached"] else " (not reached: throughput still grew at the last step; raise --concurrency)"
    ideal = at["ideal_rps"]
    lines.append(f"at saturation{verdict}: {at['rps']:.1f} requests/s with {at['concurrency']} clients; "
                 f"{at['rps_per_hub_cpu_second'] or 0:.1f} requests per hub CPU-second; model's ideal "
                 + (f"{ideal:.1f} requests/s (bound: {at['ideal_bound']}), {at['efficiency']:.0%} of it reached"
                    if ideal else "unknown (no CPU measured)"))
    return lines
