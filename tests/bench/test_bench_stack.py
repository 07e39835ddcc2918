"""The benchmark's hub configuration: each run's fresh store comes with fresh ledger
checkpoints, so a run never reads the previous run's head as a rollback."""

from __future__ import annotations

from pathlib import Path

from bench.stack import write_bench_config
from hub.demo import DemoSources
from hub.settings import load_settings


class _Sources(DemoSources):
    """Sample sources as the configuration names them, without starting them."""

    def url_of(self, name: str) -> str:
        return f"http://127.0.0.1:9/{name}"


def test_a_fresh_store_gets_a_fresh_checkpoint_file(tmp_path: Path) -> None:
    sources = _Sources(data_dir=tmp_path, api_key="k" * 32)
    settings = load_settings(write_bench_config(sources))
    checkpoints = settings.resolved_checkpoint_file
    assert checkpoints.parent == tmp_path and checkpoints.name != "ledger-head-checkpoints.jsonl"
    checkpoints.write_text('{"left": "by an earlier run"}\n')
    (tmp_path / "hub-bench.db").write_text("an earlier run's store")
    assert load_settings(write_bench_config(sources)).resolved_checkpoint_file == checkpoints
    assert not checkpoints.exists() and not (tmp_path / "hub-bench.db").exists()


def test_a_store_given_by_url_keeps_its_checkpoints_from_run_to_run(tmp_path: Path) -> None:
    sources = _Sources(data_dir=tmp_path, api_key="k" * 32)
    url = "postgresql+asyncpg://root@127.0.0.1:5432/bench_a"
    first = load_settings(write_bench_config(sources, store_url=url)).resolved_checkpoint_file
    first.write_text('{"head": 1}\n')
    again = load_settings(write_bench_config(sources, store_url=url)).resolved_checkpoint_file
    other = load_settings(write_bench_config(sources, store_url=url + "x")).resolved_checkpoint_file
    assert again == first and first.exists() and other != first
