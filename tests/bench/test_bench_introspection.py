"""`python -m bench.introspection` runs and reports every introspecting role, and the
hostile documents refused with the limit that names them."""

from __future__ import annotations

import pytest

from bench.introspection import main


def test_the_introspection_bench_reports_each_role_and_each_refusal(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--repeat", "1"]) == 0
    out = capsys.readouterr().out
    for role in ("analyst", "auditor", "citizen", "kelurahan_officer", "population_officer"):
        line = next(line for line in out.splitlines() if line.startswith(role))
        assert "refused" not in line, line
    assert "QUERY_TOO_COMPLEX introspectionDepth" in out
    assert out.count("QUERY_TOO_COMPLEX introspectionLists") == 2
    assert "QUERY_TOO_COMPLEX selections" in out
