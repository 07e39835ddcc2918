"""The soak of issue 26: a REST source made slow, killed and restarted, under more
concurrent callers than pool slots, each giving up at a random moment. After every
restart the connector answers again within the circuit's cool-down, and at the end the
pool holds no connection without a request (httpcore 1.0.9 wedged here for good).

`SIMPUL_SOAK_SECONDS` sets the length (default 90 s); `python -m bench.soak --seconds
600` runs the same soak longer and prints the figures.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.soak import soak

SECONDS = float(os.environ.get("SIMPUL_SOAK_SECONDS", "90"))
COOLDOWN = 2.0
STEADY_WINDOW = 1.0  # the recovery counts a whole second without any error


@pytest.mark.timeout(SECONDS + 240)
async def test_a_source_that_is_slowed_killed_and_restarted_never_wedges_the_pool(tmp_path: Path) -> None:
    lines: list[str] = []
    result = await soak(tmp_path, seconds=SECONDS, cooldown=COOLDOWN, log=lines.append)
    assert result.cycles >= 2, lines
    # the faults happened: answers from the stale cache, callers that gave up
    assert result.calls["ok"] > 0 and result.calls["stale"] > 0 and result.calls["caller gave up"] > 0, result.calls
    for first, steady in zip(result.recovery_first_ok, result.recovery_steady, strict=True):
        assert first <= COOLDOWN + 0.5, lines
        assert steady <= COOLDOWN + STEADY_WINDOW + 1.0, lines
    assert result.final_ok == result.final_calls == 30
    assert result.pool["stuck"] == 0 and result.pool["in_flight"] == 0, result.pool
    assert result.pool["recycled"] == 0, "the pool had to be replaced: slots leaked again"
