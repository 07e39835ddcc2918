"""The example plug-in discovered through its entry points and queried end to end.

The hub reads its plug-ins once, when its schema is first imported; so the tests of
the hub with the plug-in (`installed/`) run in a fresh interpreter whose path holds a
dist-info directory declaring the entry points (conftest.write_dist_info), the example's
source and the repository, as they would after `pip install examples/village-aid`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLE, REPO, SRC


def test_the_plugin_tests_pass_in_a_hub_that_discovers_it(plugin_path: Path) -> None:
    tests = EXAMPLE / "tests"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, (plugin_path, SRC, tests, REPO)))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(tests / "installed"), "-q", "-p", "no:cacheprovider",
         "--rootdir", str(tests / "installed"), "-c", os.devnull],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout[-2000:]
