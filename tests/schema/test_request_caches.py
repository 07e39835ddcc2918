"""The per-schema caches that spare each request work its document already did: the
validation of a text and the cost of an operation with given page sizes."""

from __future__ import annotations

import asyncio

import pytest
from graphql import parse

from schema.build import build_schema
from schema.extensions.cost import (
    Costs,
    QueryCostLimiter,
    QueryTooComplex,
    page_variables,
    query_cost,
)
from schema.extensions.validation import TextValidationCache

PAGE = "query($n: Int, $nik: String!) { citizens(first: $n) { edges { node { fullName } } } citizen(nik: $nik) { nik } }"


def _extension(factory_type: type, schema: object) -> object:
    """The schema's extension instance of `factory_type` (its factories are lambdas)."""
    for factory in schema.extensions:  # type: ignore[attr-defined]
        made = factory() if not isinstance(factory, type) else None
        if isinstance(made, factory_type):
            return made
    raise AssertionError(f"no {factory_type.__name__} in the schema")


def test_page_variables_are_those_a_first_reads_fragments_included() -> None:
    document = parse(
        "fragment F on Query { citizens(first: $inner) { totalCount } } "
        "query($outer: Int, $nik: String!, $inner: Int) { a: citizens(first: $outer) { totalCount } "
        "citizen(nik: $nik) { nik } ...F }"
    )
    assert page_variables(document) == {"outer", "inner"}


def test_costs_key_by_page_values_not_by_other_variables() -> None:
    costs = Costs()
    document = parse(PAGE)
    one = costs.key(PAGE, document, None, 20, {"n": 5, "nik": "1"})
    other_nik = costs.key(PAGE, document, None, 20, {"n": 5, "nik": "2"})
    other_page = costs.key(PAGE, document, None, 20, {"n": 6, "nik": "1"})
    other_default = costs.key(PAGE, document, None, 50, {"n": 5, "nik": "1"})
    assert one == other_nik
    assert len({one, other_page, other_default}) == 3
    # True == 1 in Python, but only 1 is an Int: their costs differ (default page size)
    assert costs.key(PAGE, document, None, 20, {"n": True}) != costs.key(PAGE, document, None, 20, {"n": 1})
    assert costs.key(PAGE, document, None, 20, {"n": [1]}) is None  # unhashable: computed, not cached


@pytest.mark.parametrize(("variables", "expected"), [({"n": 5}, 1 + 5 * 2 + 1), ({"n": True}, 1 + 20 * 2 + 1),
                                                      ({}, 1 + 20 * 2 + 1)])
def test_the_cost_reads_only_the_page_variables(variables: dict, expected: int) -> None:
    # a missing or mistyped NIK does not change the cost (it is reported by execution)
    schema = build_schema()._schema
    assert query_cost(schema, parse(PAGE), variables=variables, default_page_size=20) == expected
    assert query_cost(schema, parse(PAGE), variables={**variables, "nik": 7}, default_page_size=20) == expected


@pytest.mark.parametrize(("definitions", "first"), [("$k: String!, $n: Int", "$n"), ("$k: String!", "1000")])
def test_a_variable_the_cost_does_not_read_cannot_hide_the_page_size(definitions: str, first: str) -> None:
    """Only the page variables are coerced for the cost; another argument of the same
    field that reads a variable (here inside the filter) must not make the `first`
    unreadable, or the page would be priced at the default size."""
    schema = build_schema()
    query = (f"query({definitions}) {{ citizens(first: {first}, filter: {{kelurahan: [$k]}}) "
             "{ edges { node { fullName } } } }")
    variables = {"k": "1471011001", "n": 1000} if "$n" in definitions else {"k": "1471011001"}
    assert query_cost(schema._schema, parse(query), variables=variables, default_page_size=20) == 1 + 1000 * 2
    result = asyncio.run(schema.execute(query, variable_values=variables))
    assert result.errors and isinstance(result.errors[0].original_error, QueryTooComplex)


def test_a_costly_page_is_refused_from_the_cache_too() -> None:
    schema = build_schema()
    limiter = _extension(QueryCostLimiter, schema)
    assert isinstance(limiter, QueryCostLimiter) and limiter.costs is not None
    for _ in range(2):  # the second answer comes from the cache
        result = asyncio.run(schema.execute(PAGE, variable_values={"n": 100_000, "nik": "x"}))
        assert result.errors and isinstance(result.errors[0].original_error, QueryTooComplex)
    assert len(limiter.costs) == 1
    small = asyncio.run(schema.execute(PAGE, variable_values={"n": 2, "nik": "x"}))
    assert not any(isinstance(e.original_error, QueryTooComplex) for e in small.errors or ())
    assert len(limiter.costs) == 2


def test_costs_are_bounded() -> None:
    costs = Costs(maxsize=2)
    document = parse(PAGE)
    for n in range(5):
        key = costs.key(PAGE, document, None, 20, {"n": n})
        costs.put(key, n)
    assert len(costs) == 2
    assert costs.get(costs.key(PAGE, document, None, 20, {"n": 4})) == 4
    assert costs.get(costs.key(PAGE, document, None, 20, {"n": 0})) is None


def test_validation_is_cached_by_text_and_still_refuses() -> None:
    schema = build_schema()
    cache = _extension(TextValidationCache, schema)
    assert isinstance(cache, TextValidationCache)
    bad = "{ citizen(nik: 1) { noSuchField } }"
    for _ in range(2):
        result = asyncio.run(schema.execute(bad))
        assert result.errors and "noSuchField" in " ".join(e.message for e in result.errors)
    assert len(cache.results) == 1 and cache.results.maxsize == 256  # bounded: unique texts cannot grow it
    asyncio.run(schema.execute("{ __typename }"))  # valid (it fails later: no request context)
    assert len(cache.results) == 2
    assert list(cache.results.values())[-1] == []  # the valid text, no errors
