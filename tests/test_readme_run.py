"""Acceptance: the README's run command, on a fresh virtual environment, as a newcomer
types it (`python3.11 -m venv .venv && . .venv/bin/activate && pip install -e . && hub
demo`, with a small --residents, a free port and its own data directory): `hub demo`
prints both URLs and a `curl` example that works, and the time it states is the time
that passed since it was launched. pip's own cache is used, as on any machine."""

from __future__ import annotations

import re
import shutil
import urllib.request
from pathlib import Path

import pytest

from tests.hub.demo_process import free_port, run_curl, start_demo

ROOT = Path(__file__).resolve().parents[1]


def readme_run_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Run it", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)\n```", section, re.DOTALL)
    assert commands, "the README's 'Run it' section has no command"
    command = commands[0].strip()
    assert command.endswith("hub demo") and "pip install -e ." in command, command
    return command


@pytest.mark.timeout(1500)
def test_the_readme_run_command_on_a_fresh_environment_prints_urls_and_a_working_example(tmp_path: Path) -> None:
    python = shutil.which("python3.11")
    assert python is not None, "the README's command needs python3.11 on PATH"
    venv = tmp_path / "venv"
    port = free_port()
    command = readme_run_command().replace("python3.11 -m venv .venv", f"python3.11 -m venv {venv}")
    command = command.replace(". .venv/bin/activate", f". {venv}/bin/activate")
    command += f" --residents 300 --port {port} --data-dir {tmp_path / 'data'}"
    # pip is quiet about its own version; anything else it says stays in the output
    run = start_demo(["bash", "-c", command], cwd=ROOT,
                     env={"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONPATH": "", "VIRTUAL_ENV": ""})
    try:
        run.read_until_ready(timeout=1200)
        base = f"http://127.0.0.1:{port}"
        assert run.value("GraphQL (GraphiQL in a browser):") == f"{base}/graphql"
        assert run.value("Public page:") == f"{base}/"
        with urllib.request.urlopen(f"{base}/", timeout=30) as page:
            assert page.status == 200
        answer = run_curl(run.curl_line())
        assert "errors" not in answer and answer["data"]["citizens"]["edges"], answer
        stated, seen = run.ready_line()
        # `seen` counts from the shell's start, pip install included; the demo's own
        # clock starts when `hub` does. The stated time is no longer than what passed...
        assert stated <= seen + 0.05
        # ...and no shorter than what passed since `hub demo` said its first line
        first = next(at for at, line in run.lines if line.startswith("Simpul demo: starting on"))
        assert stated >= seen - first, (stated, seen, first)
    finally:
        run.stop()
