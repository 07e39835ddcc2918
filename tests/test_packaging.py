"""What an install of the product brings: no benchmark machinery without the `[bench]` extra."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("hub", "schema", "auth", "connectors", "demo")
#: what only the benchmarks use (the load generator's clients, process figures)
BENCH_ONLY = ("aiohttp", "httptools", "psutil")


def _requirements() -> list[Requirement]:
    return [Requirement(line) for line in importlib.metadata.requires("simpul") or ()]


@pytest.mark.parametrize("name", BENCH_ONLY)
def test_a_benchmark_only_package_is_required_only_by_the_bench_extra(name: str) -> None:
    """Read from the installed distribution's metadata (`pip install -e .` writes it)."""
    markers = [str(r.marker) for r in _requirements() if r.name == name]
    assert markers == ['extra == "bench"'], markers


def test_the_product_dependencies_in_pyproject_name_no_benchmark_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    product = {Requirement(line).name for line in project["dependencies"]}
    bench = {Requirement(line).name for line in project["optional-dependencies"]["bench"]}
    assert product.isdisjoint(BENCH_ONLY), product & set(BENCH_ONLY)
    assert bench >= set(BENCH_ONLY)


def test_importing_every_product_module_imports_no_benchmark_package() -> None:
    """In a fresh interpreter: every module of the product packages (their `__main__`
    modules aside, which run a command), then what got loaded."""
    script = textwrap.dedent(f"""
        import importlib, pkgutil, sys
        for top in {PRODUCT!r}:
            package = importlib.import_module(top)
            for module in pkgutil.walk_packages(package.__path__, top + "."):
                if not module.name.endswith("__main__"):
                    importlib.import_module(module.name)
        loaded = sorted({{name.partition(".")[0] for name in sys.modules}})
        print(" ".join(loaded))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    assert {"hub", "schema", "auth", "connectors", "demo", "strawberry"} <= loaded  # the walk did run
    assert loaded.isdisjoint({*BENCH_ONLY, "bench"}), loaded & {*BENCH_ONLY, "bench"}


@pytest.mark.parametrize("missing", ["aiohttp", "bench"])
def test_hub_bench_without_the_extra_says_what_to_install(missing: str) -> None:
    """A module of the extra (or the package itself) that cannot be imported: a message
    and exit code 2, no traceback."""
    script = f"import sys; sys.modules[{missing!r}] = None; from hub.cli import main; sys.exit(main(['bench']))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "install simpul[bench]" in result.stderr
    assert f"no module '{missing}" in result.stderr
    assert "Traceback" not in result.stderr
