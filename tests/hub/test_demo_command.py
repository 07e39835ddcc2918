"""`hub demo` run as a program: it speaks at once, shows each long step, states the time
since it was launched, prints both URLs and a `curl` example that works as printed; and a
second demo on a busy port stops before anything is started, printed or changed."""

from __future__ import annotations

import hashlib
import socket
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hub.demo_process import DemoRun, free_port, run_curl, start_demo

ROOT = Path(__file__).resolve().parents[2]
HUB = [sys.executable, "-c", "import sys; from hub.cli import main; sys.argv[0] = 'hub'; sys.exit(main())"]
RESIDENTS = "600"


def hub_demo(data_dir: Path, port: int) -> DemoRun:
    return start_demo([*HUB, "demo", "--residents", RESIDENTS, "--port", str(port), "--data-dir", str(data_dir)],
                      cwd=ROOT, env={"PYTHONPATH": str(ROOT)})


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoRun, Path, int]]:
    data_dir = tmp_path_factory.mktemp("demo-data")
    port = free_port()
    run = hub_demo(data_dir, port)
    try:
        run.read_until_ready(timeout=240)
        yield run, data_dir, port
    finally:
        run.stop()


def test_the_first_line_comes_before_any_heavy_work(first_run: tuple[DemoRun, Path, int]) -> None:
    run, _, port = first_run
    first = run.lines[0][1]
    assert first == f"Simpul demo: starting on http://127.0.0.1:{port} …"
    # the next line names the first long step: nothing runs unannounced
    assert run.lines[1][1].strip() == "Loading the hub …"


def test_each_long_step_is_announced_and_closed(first_run: tuple[DemoRun, Path, int]) -> None:
    run, _, _ = first_run
    text = run.text
    for begun, ended in [
        ("Generating residents …", "✓ 600 residents ("),
        ("Generating applications …", " applications ("),
        ("Generating complaints …", " complaints ("),
        ("Starting the sample services …", "✓ sample services licensing http://127.0.0.1:"),
        ("Starting the hub …", "✓ hub started ("),
    ]:
        assert begun in text and ended in text, (begun, text)
        assert text.index(begun) < text.index(ended)


def test_the_time_stated_is_counted_from_the_launch(first_run: tuple[DemoRun, Path, int]) -> None:
    run, _, _ = first_run
    stated, seen = run.ready_line()
    # the test launched the program a moment before the program's own clock starts, and
    # read the line a moment after it was written: the stated time lies in between
    assert stated <= seen + 0.05
    assert stated >= seen - 1.0, f"the demo says {stated} s; {seen:.2f} s passed since it was launched"


def test_both_urls_are_printed_and_answer(first_run: tuple[DemoRun, Path, int]) -> None:
    run, _, port = first_run
    base = f"http://127.0.0.1:{port}"
    assert run.value("GraphQL (GraphiQL in a browser):") == f"{base}/graphql"
    assert run.value("Public page:") == f"{base}/"
    with urllib.request.urlopen(f"{base}/", timeout=30) as page:
        assert page.status == 200
        assert "Lacak permohonan atau pengaduan" in page.read().decode()


def test_the_curl_example_works_as_printed_for_its_role(first_run: tuple[DemoRun, Path, int]) -> None:
    run, _, _ = first_run
    line = run.curl_line()
    assert "X-Access-Purpose: population-service" in line
    assert run.text.count("Try it as kelurahan_officer") == 1
    # the token in the example is the one printed for that role
    assert run.value("kelurahan_officer:") in line
    answer = run_curl(line)
    assert "errors" not in answer, answer
    edges = answer["data"]["citizens"]["edges"]
    assert edges, answer
    kelurahan = {edge["node"]["kelurahan"]["name"] for edge in edges}
    assert len(kelurahan) == 1  # the officer's own kelurahan only
    assert all(len(edge["node"]["nik"]) == 16 for edge in edges)


def _snapshot(directory: Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*")) if path.is_file()
    }


def test_a_second_demo_on_a_busy_port_stops_before_anything_and_changes_nothing(
    first_run: tuple[DemoRun, Path, int],
) -> None:
    first, data_dir, port = first_run
    assert first.stop() is not None  # the first demo has ended; its files are at rest
    before = _snapshot(data_dir)
    assert "hub.toml" in before and "manifest.json" in before
    with socket.create_server(("127.0.0.1", port)):  # someone else holds the port now
        second = hub_demo(data_dir, port)
        try:
            code = second.process.wait(60)
            assert second.process.stdout is not None
            output = second.process.stdout.read()
        finally:
            second.stop()
    assert code == 2
    assert f"port {port} on 127.0.0.1 is already in use" in output
    assert "hub ready" not in output.lower()
    assert "eyJ" not in output and "Tokens" not in output
    assert "Generating" not in output and "Starting the" not in output
    assert _snapshot(data_dir) == before
