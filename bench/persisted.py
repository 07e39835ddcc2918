"""The persisted variants of the mix: pushed into the hub's store before the run, as
`hub operations push` would push them (checked first against their role's schema and
limits), so that their requests can send the id instead of the text."""

from __future__ import annotations

from collections.abc import Sequence

from bench.operations import BENCH_CLIENT, Operation
from bench.options import BenchError
from hub.persisted.checks import check_operations
from hub.persisted.commands import role_targets
from hub.persisted.manifest import read_manifest
from hub.persisted.operations import push_operations
from hub.schemas import load_access
from hub.settings import Settings
from hub.store import create_store_engine, create_tables, write_transaction


async def push_persisted(settings: Settings, operations: Sequence[Operation]) -> int:
    """Push the persisted variants among `operations` for `BENCH_CLIENT`; how many."""
    import orjson

    persisted = [op for op in operations if op.persisted_role is not None]
    if not persisted:
        return 0
    policy = load_access(settings)[0]
    engine = create_store_engine(settings.resolved_store_url)
    try:
        await create_tables(engine)
        for role in sorted({op.persisted_role for op in persisted if op.persisted_role}):
            chosen = [op for op in persisted if op.persisted_role == role]
            manifest = read_manifest(orjson.dumps({op.document_id: op.query for op in chosen}))
            targets = role_targets(policy, [[role]])
            problems = check_operations(manifest, {m.id: targets for m in manifest})
            if problems:
                raise BenchError("OPERATION_FAILED", f"a persisted variant is invalid: {problems[0]}")
            async with write_transaction(engine) as conn:
                await push_operations(conn, BENCH_CLIENT, manifest, runs_as=[[role]])
    finally:
        await engine.dispose()
    return len(persisted)


__all__ = ["push_persisted"]
