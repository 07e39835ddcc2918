"""What authorization and the access ledger cost on the 100-citizen query (same run).

    python -m bench.authz_cost [--residents 2000] [--rounds 30]

Runs the hub in-process against the sample services (started here), and times the
query that lists 100 citizens with their applications (and each application's
applicant) and complaints, in three modes:
  open     policy checks replaced by a pass-through, no ledger;
  policy   the role's schema, row and field decisions, purpose check; ledger discarded;
  ledger   as policy, plus the hash-chained ledger written to SQLite before the answer.
Prints median and p90 milliseconds per mode.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from auth.policy import RowScope
from hub.app import create_app
from hub.demo import demo_settings, ensure_demo_data, start_demo_sources
from hub.identity import development_issuer
from hub.settings import load_settings
from schema import access

QUERY = """{ citizens(first: 100) { edges { node { nik fullName age kelurahan { name }
  applications { number status dueDate overdue applicant { nik fullName } }
  complaints { number category status } } } } }"""


class OpenPresenter(access.Presenter):
    def shape(self, type_name, facts, values, *, reached_as=access.ReachedAs.ROOT):  # type: ignore[no-untyped-def,override]
        return access.Shaped(values, _FULL_ROW)

    def scope(self, type_name: str) -> RowScope:
        return RowScope.all()


class _FullRow:
    allowed = True

    def access(self, field: str):  # type: ignore[no-untyped-def]
        from auth.policy import Access

        return Access.FULL


_FULL_ROW = _FullRow()


async def timed(app, headers: dict[str, str], rounds: int) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub", timeout=60) as client:
            for i in range(rounds + 3):
                started = time.perf_counter()
                response = await client.post("/graphql", json={"query": QUERY}, headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                body = response.json()
                assert "errors" not in body, body["errors"][:2]
                if i >= 3:  # warm-up
                    samples.append(elapsed)
    return samples


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        ensure_demo_data(data_dir, residents=args.residents, region_file=load_settings(None).resolved_region_file)
        stack = start_demo_sources(data_dir)
        try:
            settings = demo_settings(stack, store_url=f"sqlite+aiosqlite:///{data_dir / 'hub.db'}")
            token = development_issuer(settings).issue(subject="bench", roles=["kelurahan_officer"],
                                                       kelurahan="1471081001")
            headers = {"Authorization": f"Bearer {token}", "X-Access-Purpose": "population-service"}
            results = {}
            for mode in ("open", "policy", "ledger"):
                app = create_app(settings)
                original = access.AccessControl.presenter
                if mode == "open":
                    access.AccessControl.presenter = (  # type: ignore[method-assign]
                        lambda self, principal, family_number=None: OpenPresenter(self.policy, principal)
                    )
                try:
                    if mode == "ledger":
                        results[mode] = await timed(app, headers, args.rounds)
                    else:
                        results[mode] = await _no_ledger(app, headers, args.rounds)
                finally:
                    access.AccessControl.presenter = original  # type: ignore[method-assign]
            for mode, samples in results.items():
                samples.sort()
                p90 = samples[int(len(samples) * 0.9) - 1]
                print(f"{mode:7s} median {statistics.median(samples):7.1f} ms   p90 {p90:7.1f} ms   (n={len(samples)})")
        finally:
            stack.stop()


async def _no_ledger(app, headers: dict[str, str], rounds: int) -> list[float]:  # type: ignore[no-untyped-def]
    """Swap the app's ledger writer for one that discards the entries."""
    from schema.context import Environment

    async def discard(drafts: object) -> None:
        return None

    for route in app.routes:
        endpoint = getattr(route, "app", None)
        dispatcher = getattr(endpoint, "app", None)
        if dispatcher is not None and hasattr(dispatcher, "_build_view"):
            build = dispatcher._build_view

            def build_view(roles: frozenset[str], build=build):  # type: ignore[no-untyped-def]
                view = build(roles)
                view.env = Environment(**{**{f: getattr(view.env, f) for f in view.env.__dataclass_fields__},
                                          "ledger": discard})
                return view

            dispatcher._build_view = build_view
    return await timed(app, headers, rounds)


if __name__ == "__main__":
    asyncio.run(main())
