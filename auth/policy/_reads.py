"""Which record keys a row rule reads, found by running it, not declared by hand.

The schema layer decides once for all records of a type that agree on the keys the
policy's rules read (`Policy.row_facts`), so a key a rule uses but nobody listed would
hand one record's decision to another: a leak. So the keys are derived.

How: the rule's `match` runs against a recording mapping that answers each key from a
small domain of values and remembers which keys were touched (`[]`, `.get`, `in` all go
through `__getitem__`; iterating or sizing the record raises, since a rule that reads
every key cannot be cached by some). A key's value is chosen at its first access, then
stays fixed for that run, so `in` and `.get` agree. The runs walk every sequence of
choices depth-first (an odometer over the values of the keys in the order they are
first read), so every branch reachable with those values is taken and the reads are the
union over all of them: a key read only when another key has some value is still found.
The walk is small because it branches only on keys actually read (the widest default
rule takes a few hundred runs).

The domain is what the rules compare against: absent, None, a value equal to the
principal's claims, another value, True and False, and every enum member or constant
the rules name (`ReachedAs`, the visibilities). A rule comparing a record's value with
something outside it (a prefix, a constant not listed here) would not have that branch
exercised: such a rule must add its constant to `DOMAIN`.

Which side is cached: the record's. The schema layer keeps its decisions per principal
(a `Presenter` lives for one request of one principal), so principal attributes are not
part of the key; they drive branches, though, so every run is repeated for principals
whose claims (nik, kelurahan) are the domain's "claim" value or None.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import cache
from typing import Any

from auth.principal import Principal

_ABSENT = object()
_CLAIM = "claim-value"  # what the principal's nik / kelurahan claim holds, when set
_OTHER = "other-value"

#: The values a recorded key takes, one run per choice. Extended by `_rules` with the
#: constants its rules compare against.
_BASE: tuple[Any, ...] = (_ABSENT, None, _CLAIM, _OTHER, True, False)

#: Beyond this many runs a rule is refused at load (its reads could not be explored).
_MAX_RUNS = 100_000


class RuleReadsError(Exception):
    """A rule whose reads cannot be derived (it iterates the record, or branches too
    widely to explore)."""


class _Recorder(Mapping[str, Any]):
    """A record whose values come from a script of choices into `domain`."""

    __slots__ = ("_domain", "_script", "choices", "values")

    def __init__(self, domain: tuple[Any, ...], script: list[int]) -> None:
        self._domain = domain
        self._script = script
        self.choices: list[int] = []  # the choice taken at each first access, in order
        self.values: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key not in self.values:
            at = len(self.choices)
            choice = self._script[at] if at < len(self._script) else 0
            self.choices.append(choice)
            self.values[key] = self._domain[choice]
        value = self.values[key]
        if value is _ABSENT:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        raise RuleReadsError("a row rule may not iterate the record")

    def __len__(self) -> int:
        raise RuleReadsError("a row rule may not size the record")


def _principals() -> tuple[Principal, ...]:
    return tuple(
        Principal(subject="reads", roles=frozenset(), kelurahan=kelurahan, nik=nik)
        for kelurahan in (_CLAIM, None)
        for nik in (_CLAIM, None)
    )


def derive_reads(
    match: Callable[[Principal, Mapping[str, Any]], bool], constants: tuple[Any, ...] = ()
) -> frozenset[str]:
    """Every record key `match` reads on any branch, for any principal's claims."""
    return _derive(match, (*_BASE, *constants))


@cache  # rules are module constants; the walk is done once per rule and domain
def _derive(match: Callable[[Principal, Mapping[str, Any]], bool], domain: tuple[Any, ...]) -> frozenset[str]:
    reads: set[str] = set()
    runs = 0
    for principal in _principals():
        script: list[int] = []
        while True:
            runs += 1
            if runs > _MAX_RUNS:
                raise RuleReadsError(f"{match!r}: too many branches to derive its reads")
            record = _Recorder(domain, script)
            match(principal, record)
            reads.update(record.values)
            script = record.choices
            # next sequence: bump the last choice that has values left, drop what follows
            while script and script[-1] == len(domain) - 1:
                script.pop()
            if not script:
                break
            script[-1] += 1
    return frozenset(reads)
