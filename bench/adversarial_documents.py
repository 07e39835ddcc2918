"""A grammar of documents that make GraphQL parsing or validation expensive, each
family grown until its request body fills a byte budget.

Each family repeats one shape `n` times; `fill` finds the largest `n` whose JSON body
(`{"query": ...}`) fits the budget. The shapes target graphql-core's costly rules:

- the overlapping-fields rule compares every pair of fields under one response name,
  and the fields below them pair by pair (`same-field`, `nested-repeats`, `doubling`,
  `fragment-copies`, `spread-repeats`, `inline-repeats`, `conflicting-arguments`: its
  errors are quadratic too), and every pair of fragments spread in one selection set
  (`fragment-pairs`);
- the fragment rules follow spreads (`exponential-fragments`: 2^n if expanded);
- the per-node rules are linear but slow per node (`distinct-fields`, `variables`,
  `directives`, `arguments`, `operations`);
- the lexer reads characters one by one (`long-string`, `long-comment`).

Only fields the anonymous schema has are used (`trackApplication`, `__typename`), so
the documents are valid apart from their size: the public can send every one of them.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson

Family = Callable[[int], str]
Fits = Callable[[str], bool]

_TRACK = 'trackApplication(number: "x") { status }'


def _doubling(n: int) -> str:
    inner = "status"
    for _ in range(n):
        inner = f"history {{ {inner} }} history {{ {inner} }}"
    return f'{{ trackApplication(number: "x") {{ {inner} }} }}'


def _exponential(n: int) -> str:
    chain = "".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }} " for i in range(n))
    return chain + f"fragment F{n} on Query {{ __typename }} {{ ...F0 }}"


FAMILIES: dict[str, Family] = {
    "same-name": lambda n: "{ " + "a: __typename " * n + "}",
    "same-field": lambda n: "{ " + f"{_TRACK} " * n + "}",
    "conflicting-arguments": lambda n: "{ " + "".join(
        f't: trackApplication(number: "{i}") {{ status }} ' for i in range(n)) + "}",
    "nested-repeats": lambda n: '{ trackApplication(number: "x") { ' + "history { status } " * n + "} }",
    "doubling": _doubling,
    "fragment-copies": lambda n: "".join(f"fragment F{i} on Query {{ {_TRACK} }} " for i in range(n))
    + "{ " + "".join(f"...F{i} " for i in range(n)) + "}",
    "fragment-pairs": lambda n: "".join(f"fragment F{i} on Query {{ a{i}: __typename }} " for i in range(n))
    + "{ " + "".join(f"...F{i} " for i in range(n)) + "}",
    "spread-repeats": lambda n: f"fragment F on Query {{ {_TRACK} }} {{ " + "...F " * n + "}",
    "inline-repeats": lambda n: "{ " + f"... on Query {{ {_TRACK} }} " * n + "}",
    "exponential-fragments": _exponential,
    "distinct-fields": lambda n: "{ " + " ".join(f"a{i}: __typename" for i in range(n)) + " }",
    "variables": lambda n: "query(" + " ".join(f"$v{i}: Boolean" for i in range(n)) + ") { "
    + " ".join(f"a{i}: __typename @include(if: $v{i})" for i in range(n)) + " }",
    "unused-variables": lambda n: "query(" + " ".join(f"$v{i}: Boolean" for i in range(n)) + ") { __typename }",
    "directives": lambda n: "{ __typename " + "@include(if: true) " * n + "}",
    "arguments": lambda n: '{ trackApplication(number: "x" ' + 'number: "x" ' * n + ") { status } }",
    "unused-fragments": lambda n: "".join(f"fragment F{i} on Query {{ __typename }} " for i in range(n))
    + "{ __typename }",
    "operations": lambda n: " ".join(f"query Q{i} {{ {_TRACK} }}" for i in range(n)),
    "long-string": lambda n: '{ trackApplication(number: "' + "x" * n + '") { status } }',
    "long-comment": lambda n: "#" + "x" * n + "\n{ __typename }",
}

#: families that make the lexer work, not validation: within the length limit they are
#: ordinary documents (a long comment; a long value, refused by its resolver)
LEXER_ONLY = ("long-string", "long-comment")

#: families whose validation grows faster than their size (the ones to bound)
QUADRATIC = ("same-field", "conflicting-arguments", "nested-repeats", "doubling", "fragment-copies",
             "fragment-pairs", "spread-repeats", "inline-repeats")

#: room left in the budget for a prefix that makes each sent text unique (`unique`)
_PREFIX_ROOM = 32


def request(family: str, document: str) -> dict[str, str]:
    """The JSON body sending `document` of `family` (naming the operation to run where
    it holds several, so that the hub goes on to validate it)."""
    return {"query": document, **({"operationName": "Q0"} if family == "operations" else {})}


def body_size(document: str) -> int:
    return len(orjson.dumps(request("operations", document)))


def largest(family: Family, fits: Fits) -> str:
    """The largest document of `family` that `fits` (the smallest if none does),
    assuming a document that fits stays fitting when made smaller."""
    low, high = 1, 2
    while fits(family(high)) and high < 1 << 20:
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(family(middle)) else (low, middle)
    return family(low)


def fill(family: Family, budget: int) -> str:
    """The largest document of `family` whose request body fits `budget` bytes."""
    return largest(family, lambda document: body_size(document) <= budget - _PREFIX_ROOM)


def documents(budget: int) -> dict[str, str]:
    """Every family, filled to `budget` bytes of request body."""
    return {name: fill(family, budget) for name, family in FAMILIES.items()}


def unique(family: str, document: str, tag: int | str) -> dict[str, str]:
    """The request for `document` under a new text (a comment first), so that no cache
    of parsed or validated documents answers it: an attacker sends a new text each time."""
    return request(family, f"#{tag}\n{document}")


__all__ = ["FAMILIES", "LEXER_ONLY", "QUADRATIC", "body_size", "documents", "fill", "largest", "request", "unique"]
