"""A server process settles its heap once started: start-up objects frozen, thresholds set."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_settling_freezes_what_start_up_built_and_sets_the_thresholds() -> None:
    # in a child process: freezing is for the life of the process
    script = textwrap.dedent("""
        import gc
        from hub.heap import settle_heap
        built_at_start = [{"n": i} for i in range(1000)]
        settle_heap((12345, 7, 9))
        print(gc.get_threshold(), gc.get_freeze_count() >= 1000, gc.isenabled())
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["(12345,", "7,", "9)", "True", "True"]
