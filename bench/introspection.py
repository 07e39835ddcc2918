"""What introspection costs each role, and what refusing hostile introspection costs.

    python -m bench.introspection [--repeat N]

The hub in this process (Starlette's TestClient over empty in-memory sources, as
`bench.adversarial` builds it). For every role the policy lets introspect, the
standard introspection query GraphiQL sends (graphql-js' `getIntrospectionQuery`
with its options; depth 14) is posted with that role's token: prints the answer's
types, bytes and the best and median time of `--repeat` requests. Then documents
built to make introspection large or deep (an `ofType` chain 60 deep, member lists
nested two and five times, three full introspections in one document) are posted as
the population officer: prints each one's answer code and time.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from graphql import get_introspection_query

from bench.adversarial import _hub

QUERY = get_introspection_query(descriptions=True, specified_by_url=True, directive_is_repeatable=True,
                                schema_description=True, input_value_deprecation=True)
CLAIMS = {"kelurahan_officer": {"kelurahan": "1471081001"}, "citizen": {"nik": "1471080101800001"}}


def _hostile() -> dict[str, str]:
    fragments = QUERY[QUERY.index("fragment FullType"):]
    nested = "fields { type { " * 5 + "name" + " } }" * 5
    return {
        "ofType chain, 60 deep": '{ __type(name: "Query") { fields { type { ' + "ofType { " * 60 + "name"
                                 + " }" * 60 + " } } } }",
        "member lists nested twice": "{ __schema { types { fields { type { fields { name } } } } } }",
        "member lists nested five times": "{ __schema { types { " + nested + " } } }",
        "three full introspections": "{ " + " ".join(f"{a}: __schema {{ types {{ ...FullType }} }}" for a in "abc")
                                     + " } " + fragments,
    }


def _time(client, body: dict, headers: dict, repeat: int) -> tuple[list[float], object]:  # type: ignore[no-untyped-def]
    times, response = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.post("/graphql", json=body, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
    return times, response


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.introspection", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20, help="requests per document (default 20)")
    args = parser.parse_args(argv)
    from starlette.testclient import TestClient

    from hub.identity import development_issuer
    from hub.schemas import load_access
    from hub.settings import Settings

    with tempfile.TemporaryDirectory() as tmp, TestClient(_hub(Path(tmp))) as client:
        settings = Settings(data_dir=Path(tmp), issuer={"development": True})  # type: ignore[arg-type]
        issuer = development_issuer(settings)
        policy, _ = load_access(settings)
        roles = sorted(r for r in policy.grantable_roles if policy.limits(r).introspection)

        def headers(role: str) -> dict[str, str]:
            token = issuer.issue(subject=f"bench-{role}", roles=[role], **CLAIMS.get(role, {}))
            return {"Authorization": f"Bearer {token}"}

        print(f"The standard introspection query ({len(QUERY)} characters, depth 14), {args.repeat} requests each:")
        print(f"{'role':<20} {'types':>6} {'KB':>7} {'best ms':>8} {'median ms':>10}")
        for role in roles:
            times, response = _time(client, {"query": QUERY}, headers(role), args.repeat)
            body = response.json()  # type: ignore[attr-defined]
            if "errors" in body:
                print(f"{role:<20} refused: {body['errors'][0]['message'][:80]}")
                continue
            types = len(body["data"]["__schema"]["types"])
            size = len(response.content) / 1024  # type: ignore[attr-defined]
            print(f"{role:<20} {types:>6} {size:>7.1f} {min(times):>8.1f} {statistics.median(times):>10.1f}")
        print("\nHostile introspection, as the population officer:")
        print(f"{'document':<32} {'answer':<40} {'best ms':>8}")
        officer = headers("population_officer")
        for name, document in _hostile().items():
            times, response = _time(client, {"query": document}, officer, args.repeat)
            error = (response.json().get("errors") or [{}])[0]  # type: ignore[attr-defined]
            extensions = error.get("extensions", {})
            answer = f"{extensions.get('code', 'answered')} {extensions.get('limit', '')}".strip()
            print(f"{name:<32} {answer:<40} {min(times):>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
