"""Measure the ledger: insert rate (batched and single-entry requests), verify rate, memory.

    python -m bench.ledger --entries 1000000 --url sqlite+aiosqlite:////tmp/ledger.db

Use an empty database (a new SQLite file, or a new PostgreSQL database): the tables are
created if missing and the run appends to whatever chain is there.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import resource
import time
from collections.abc import Sequence

import psutil  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from auth.ledger import LedgerDraft, LedgerWriter, append, ledger_metadata, prepare_engine, verify

#: what a population officer's look at one citizen records (the document's hash is fixed)
DOCUMENT_HASH = hashlib.sha256(b"query { citizen(nik: $nik) { name } }").hexdigest()


def _batch(size: int, offset: int) -> list[LedgerDraft]:
    return [
        LedgerDraft(
            request_id=f"bench-{offset}", subject="officer-1", roles=("population_officer",),
            purpose="population-service", document_hash=DOCUMENT_HASH, record_type="Citizen",
            record_key=f"{1471080101000000 + offset + i}", fields=("name", "nik"), masked_fields=(),
            operation_name="CitizenByNik", department="population",
        )
        for i in range(size)
    ]


async def _create_tables(engine: AsyncEngine) -> None:
    """The ledger's tables on `engine`, as the hub store creates them."""
    prepare_engine(engine)
    async with engine.begin() as conn:
        await conn.run_sync(ledger_metadata.create_all)


async def _batched(engine: AsyncEngine, entries: int, batch: int, writer: LedgerWriter | None) -> float:
    drafts = _batch(batch, 0)
    started = time.perf_counter()
    for done in range(0, entries, batch):
        chunk = drafts[: min(batch, entries - done)]
        await (writer.append(chunk) if writer else append(engine, chunk))
    return entries / (time.perf_counter() - started)


async def _singles(
    engine: AsyncEngine, count: int, concurrency: int, writer: LedgerWriter | None
) -> float:
    draft = _batch(1, 0)
    queue = iter(range(count))

    async def worker() -> None:
        for _ in queue:
            await (writer.append(draft) if writer else append(engine, draft))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (time.perf_counter() - started)


async def _verify(engine: AsyncEngine, chunk: int) -> tuple[float, int, float]:
    process = psutil.Process()
    peak = process.memory_info().rss
    before = peak
    stop = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, process.memory_info().rss)
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    started = time.perf_counter()
    result = await verify(engine, chunk_size=chunk)
    elapsed = time.perf_counter() - started
    stop.set()
    await sampler
    if not result.ok:
        raise SystemExit(
            f"verify failed: {result.problem} at {result.broken_seq}: {result.detail}"
        )
    return result.entries / elapsed, result.entries, (peak - before) / 2**20


async def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument(
        "--url", required=True, help="SQLAlchemy async URL of an empty database"
    )
    parser.add_argument(
        "--entries", type=int, default=100_000, help="entries written in batches"
    )
    parser.add_argument("--batch", type=int, default=100, help="entries per request")
    parser.add_argument(
        "--singles", type=int, default=2_000, help="single-entry requests"
    )
    parser.add_argument(
        "--concurrency", type=int, default=1, help="concurrent single-entry writers"
    )
    parser.add_argument("--chunk", type=int, default=5_000, help="verify chunk size")
    args = parser.parse_args(argv)

    engine = create_async_engine(args.url, pool_size=max(5, args.concurrency))
    writer = LedgerWriter(engine)  # what the hub uses (on a SQLite file: its own thread)
    try:
        await _create_tables(engine)
        for how, used in (("append()", None), ("LedgerWriter", writer)):
            rate = await _batched(engine, args.entries, args.batch, used)
            print(f"insert, {args.batch} entries per request, {how}: {rate:,.0f} entries/s")
        for concurrency in sorted({1, args.concurrency}):
            for how, used in (("append()", None), ("LedgerWriter (group commit)", writer)):
                rate = await _singles(engine, args.singles, concurrency, used)
                print(
                    f"insert, 1 entry per request, {concurrency} concurrent, {how}: "
                    f"{rate:,.0f} entries/s"
                )
        rate, count, grew = await _verify(engine, args.chunk)
        print(
            f"verify: {count:,} entries at {rate:,.0f} entries/s; RSS grew {grew:.1f} MiB during verify"
        )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of the whole run: {peak:.0f} MiB")
    finally:
        await writer.aclose()
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
