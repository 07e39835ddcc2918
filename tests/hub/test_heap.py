"""A request's records do not outlive it waiting for the cyclic garbage collector."""

from __future__ import annotations


def test_a_requests_records_are_freed_when_it_ends_not_left_to_the_collector(client, token) -> None:  # type: ignore[no-untyped-def]
    """graphql-core's execution context is a reference cycle that refers to the request's
    context: the cycle is broken once the response is built, and the context drops the
    request's records and ledger notes once it is sent, or every large page would wait
    for (and burden) the cyclic garbage collector."""
    import gc

    from connectors.records import CitizenRecord
    from schema.context import Context
    from schema.execution import FastPlainExecutionContext

    headers = {**token("population_officer"), "X-Access-Purpose": "population-service"}
    query = "{ citizens(first: 50) { edges { node { nik fullName address kelurahan { name } } } } }"
    ours: set[str] = set()  # other tests' objects may become garbage meanwhile: judge only ours
    gc.collect()
    gc.disable()
    try:
        gc.set_debug(gc.DEBUG_SAVEALL)
        for _ in range(3):
            response = client.post("/graphql", json={"query": query}, headers=headers)
            assert len(response.json()["data"]["citizens"]["edges"]) == 50
            ours.add(response.headers["x-request-id"])
        gc.collect()
        garbage = list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    kinds = {type(o).__name__ for o in garbage}
    contexts = [o.context_value if isinstance(o, FastPlainExecutionContext) else o
                for o in garbage if isinstance(o, FastPlainExecutionContext | Context)]
    assert not [c for c in contexts if getattr(c, "request_id", None) in ours], kinds
    assert not any(isinstance(o, CitizenRecord) for o in garbage), kinds
    assert "_Access" not in kinds
