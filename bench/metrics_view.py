"""Timing the metrics view on a large sample (not a test; run by hand):

    .venv/bin/python -m demo generate --data-dir /tmp/m300 --residents 300000 \\
        --region-file hub/reference/regions.yaml
    .venv/bin/python -m bench.metrics_view /tmp/m300 [--store URL]

Starts the sample services on the data directory, backfills a fresh metrics store from
their REST APIs and change feeds, then times serviceMetrics (through the GraphQL schema
as an analyst) and the performance report.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path


async def timed(label: str, call, repeat: int = 20) -> None:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    print(f"{label:<58} median {statistics.median(samples):7.1f} ms   p90 {samples[int(0.9 * (len(samples) - 1))]:7.1f} ms")


async def main(data_dir: Path, store_url: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    from auth.policy import load_policy
    from auth.principal import ANONYMOUS, Principal
    from auth.purposes import load_purposes
    from connectors.complaints.rest import RestComplaintSource
    from connectors.licensing.rest import RestLicensingSource
    from connectors.memory import InMemoryPopulationSource
    from connectors.metrics import MetricsFilter, MetricsView, metrics_metadata
    from connectors.workdays import WorkCalendar
    from hub.demo import start_demo_sources
    from hub.settings import load_settings
    from schema.access import AccessControl, catalogue_of
    from schema.value_kinds import VALUE_KINDS
    from schema.analytics.service import MetricsService
    from schema.build import build_role_schema, build_schema
    from schema.context import Context, Environment
    from schema.region import load_region
    from schema.sources import Sources

    stack = start_demo_sources(data_dir)
    engine = create_async_engine(store_url)
    licensing = RestLicensingSource(stack.url_of("licensing"), api_key=stack.api_key, timeout=30)
    complaints = RestComplaintSource(stack.url_of("complaints"), api_key=stack.api_key, timeout=30)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metrics_metadata.drop_all)
            await conn.run_sync(metrics_metadata.create_all)
        view = MetricsView(engine)
        calendar = WorkCalendar()
        today = date(2026, 11, 28)
        start = time.perf_counter()
        results = await view.refresh(licensing=licensing, complaints=complaints, calendar=calendar, today=today)
        print(f"backfill: {results} in {time.perf_counter() - start:.2f} s")
        start = time.perf_counter()
        results = await view.refresh(licensing=licensing, complaints=complaints, calendar=calendar, today=today)
        print(f"refresh without changes: {time.perf_counter() - start:.3f} s")

        full = build_schema()
        policy = load_policy(catalogue=catalogue_of(full._schema), kinds=VALUE_KINDS)
        env = Environment(
            sources=Sources(InMemoryPopulationSource([]), licensing, complaints),
            region=load_region(load_settings(None).resolved_region_file),
            calendar=calendar,
            access=AccessControl(policy, load_purposes()),
            metrics=MetricsService(view=view),
            today=lambda: today,
        )
        analyst = Principal(subject="bench", roles=frozenset({"analyst"}))
        schemas = {p.roles: build_role_schema(full, policy, p.roles) for p in (analyst, ANONYMOUS)}

        def gql(query: str, principal: Principal):  # type: ignore[no-untyped-def]
            async def run() -> None:
                result = await schemas[principal.roles].execute(
                    query, context_value=Context.create(env, principal, request_id="bench"))
                assert not result.errors, result.errors

            return run

        metrics = """{ serviceMetrics(period: {from: "%s", to: "%s"} %s) { asOf
          applications { total finished onTime onTimeShare backlog overdue medianWorkingDays p90WorkingDays
            byStatus { status count } byPermitType { code total onTimeShare medianWorkingDays p90WorkingDays } }
          complaints { total verifiedWithin3Days followedUpWithin5Days byStatus { status count }
            byCategory { category total } } } }"""
        await timed("view.service_metrics (all, two years)",
                    lambda: view.service_metrics(MetricsFilter()))
        await timed("serviceMetrics GraphQL, two years",
                    gql(metrics % ("2024-11-28", "2026-11-28", ""), analyst))
        await timed("serviceMetrics GraphQL, one month",
                    gql(metrics % ("2026-10-01", "2026-10-31", ""), analyst))
        await timed("serviceMetrics GraphQL, one kelurahan, two years",
                    gql(metrics % ("2024-11-28", "2026-11-28", ', kelurahan: ["1471081001"]'), analyst))
        await timed("serviceMetrics GraphQL, one permit type, two years",
                    gql(metrics % ("2024-11-28", "2026-11-28", ', permitType: ["PBG"]'), analyst))
        report = """{ performanceReport(period: {year: %d %s}) { asOf
          applications { total { value } onTimeShare { value } medianWorkingDays { value } }
          services { code applications { total { value suppressed } overdue { value suppressed } } }
          kelurahan { code applications { total { value } } complaints { total { value } } }
          complaintCategories { category complaints { total { value } } }
          achievements { message } overdueAreas { message } } }"""
        await timed("performanceReport GraphQL (anonymous), year 2026", gql(report % (2026, ""), ANONYMOUS))
        await timed("performanceReport GraphQL (anonymous), month", gql(report % (2026, ", month: 10"), ANONYMOUS))
    finally:
        await licensing.aclose()
        await complaints.aclose()
        await engine.dispose()
        stack.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--store", default=None, help="SQLAlchemy async URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    store = args.store or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/hub.db"
    sys.exit(asyncio.run(main(args.data_dir, store)))
