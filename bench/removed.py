"""The micro-optimisations removed from the product (issue 22), as patches over it, so
that `python -m bench.micro_ab` can measure again what each one saved.

Each `install_*` puts the optimised version in place and returns a function that puts
the product's own version back. They copy the code as it was before it was removed
(commit 1c83934); nothing in the product imports this module.
"""

from __future__ import annotations

import asyncio
import dataclasses
import operator
import sqlite3
from collections.abc import Callable
from functools import cache
from typing import Any

import orjson
from prometheus_client.metrics import MetricWrapperBase
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, stop_before_delay, wait_exponential_jitter

from auth.ledger import model, sqlite_thread
from auth.ledger.chain import format_time
from auth.ledger.model import ENTRY_COLUMNS, LedgerDraft
from connectors.resilience import _guard
from schema import access, context, ledger_writes

Restore = Callable[[], None]


def _swap(owner: object, name: str, value: object) -> Restore:
    original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
    setattr(owner, name, value)
    return lambda: setattr(owner, name, original)


# -- the first attempt outside tenacity ----------------------------------------------


async def _first_attempt_outside(self: Any, operation: str, call: Any, *, attempts: int, backoff: float,
                                 deadline: float | None = None) -> Any:
    loop = asyncio.get_running_loop()
    ends = loop.time() + deadline if deadline is not None else float("inf")
    try:
        return await self._attempt(operation, call, timeout=min(self.policy.timeout, ends - loop.time()))
    except Exception as exc:
        if attempts <= 1 or not _guard._retryable(exc):
            raise
        made: BaseException | None = exc
    stop: Any = stop_after_attempt(attempts)
    if deadline is not None:
        stop = stop | stop_before_delay(max(ends - loop.time(), 0.0))
    retrying = AsyncRetrying(
        stop=stop,
        wait=wait_exponential_jitter(multiplier=backoff, max=self.policy.backoff_max, jitter=backoff),
        retry=retry_if_exception(_guard._retryable), reraise=True, sleep=self._sleep,
    )
    async for attempt in retrying:
        with attempt:
            if made is not None:
                error, made = made, None
                raise error
            remaining = ends - loop.time()
            if remaining <= 0:
                raise self._timeout(operation)
            return await self._attempt(operation, call, timeout=min(self.policy.timeout, remaining))
    raise AssertionError("unreachable")


def install_first_attempt_outside_tenacity() -> Restore:
    return _swap(_guard.Guard, "_with_retries", _first_attempt_outside)


# -- the Prometheus label-child cache --------------------------------------------------


def install_label_child_cache() -> Restore:
    """`HubMetrics.child` was a dict of (metric, labels) -> child in front of `labels()`."""
    labels = MetricWrapperBase.labels
    children: dict[tuple[object, tuple[str, ...]], Any] = {}

    def child(self: Any, *values: str) -> Any:
        key = (self, values)
        found = children.get(key)
        if found is None:
            found = children[key] = labels(self, *values)
        return found

    return _swap(MetricWrapperBase, "labels", child)


# -- positional ledger drafts ----------------------------------------------------------


def _positional_drafts_of(keys: Any, accessed: Any, *, principal: Any, request_id: str, purpose: str | None,
                          case: str | None, writes: Any) -> list[LedgerDraft]:
    in_order = ledger_writes._in_order
    roles = in_order(principal.roles)
    subject, client_id, department = principal.subject, principal.client_id, principal.department
    document_hash, operation_name = writes.document_hash, writes.operation_name
    ordered: dict[frozenset[str], tuple[str, ...]] = {}
    drafts = []
    for record_type, key in keys:
        noted = accessed[(record_type, key)]
        fields = ordered.get(noted.fields)
        if fields is None:
            fields = ordered[noted.fields] = in_order(noted.fields)
        masked = ordered.get(noted.masked)
        if masked is None:
            masked = ordered[noted.masked] = in_order(noted.masked)
        drafts.append(LedgerDraft(
            request_id, subject, roles, purpose, document_hash, record_type, key, fields, masked,  # type: ignore[misc]
            noted.action, noted.detail, client_id, case, operation_name, department,
        ))
    return drafts


def install_positional_drafts() -> Restore:
    return _swap(context, "drafts_of", _positional_drafts_of)


# -- mutable "treat as value" ledger records -------------------------------------------


def _mutable_init(cls: type) -> Callable[..., None]:
    """The constructor of `cls` as a plain (not frozen) slotted dataclass."""
    fields = [(f.name, f.type) if f.default is dataclasses.MISSING else (f.name, f.type, f.default)
              for f in dataclasses.fields(cls)]
    return dataclasses.make_dataclass(cls.__name__, fields, slots=True).__init__  # type: ignore[return-value]


def install_mutable_records() -> Restore:
    """LedgerDraft, LedgerEntry and schema.access.Shaped (one per record shown) were
    slotted dataclasses without `frozen`, whose constructors assign plainly instead of
    through `object.__setattr__`."""
    restores = []
    for cls in (model.LedgerDraft, model.LedgerEntry, access.Shaped):
        restores.append(_swap(cls, "__init__", _mutable_init(cls)))
        restores.append(_swap(cls, "__setattr__", object.__setattr__))
        restores.append(_swap(cls, "__delattr__", object.__delattr__))

    def restore() -> None:
        for undo in reversed(restores):
            undo()

    return restore


# -- the run-binding SQL insert ----------------------------------------------------------

_COLUMNS = ", ".join(f'"{name}"' for name in ENTRY_COLUMNS)
_OWN_COLUMNS = ("seq", "record_key", "prev_hash", "entry_hash")
_RUN_COLUMNS = tuple(c for c in ENTRY_COLUMNS if c not in _OWN_COLUMNS)
_own_values = operator.attrgetter(*_OWN_COLUMNS)
_run_values = operator.attrgetter(*_RUN_COLUMNS)
_PLACES = tuple((name in _OWN_COLUMNS, (_OWN_COLUMNS if name in _OWN_COLUMNS else _RUN_COLUMNS).index(name))
                for name in ENTRY_COLUMNS)
_COLLECTIONS = frozenset({"roles", "fields", "masked_fields"})
SHORT_RUN = 8


@cache
def _insert_run(rows: int) -> str:
    select = ", ".join(f"column{index + 1}" if own else "?" for own, index in _PLACES)
    row = f"({', '.join('?' * len(_OWN_COLUMNS))})"
    return f"INSERT INTO ledger_entries ({_COLUMNS}) SELECT {select} FROM (VALUES {', '.join([row] * rows)})"


@cache
def _run_rows(limit: int) -> int:
    fits, largest = (limit - len(_RUN_COLUMNS)) // len(_OWN_COLUMNS), 1
    while largest * 2 <= min(fits, sqlite_thread.ROWS_PER_INSERT):
        largest *= 2
    return largest


def _runs(entries: Any) -> list[tuple[tuple[object, ...], list[object]]]:
    runs: list[tuple[tuple[object, ...], list[object]]] = []
    shared: tuple[object, ...] | None = None
    own: list[object] = []
    for entry in entries:
        values = _run_values(entry)
        if values != shared:
            shared, own = values, []
            runs.append((values, own))
        own += _own_values(entry)
    return runs


def _execute_rows(connection: sqlite3.Connection, statement: Callable[[int], str], prefix: list[object],
                  values: Any, width: int, largest: int) -> None:
    done, size, total = 0, largest, len(values) // width
    while done < total:
        while size > total - done:
            size //= 2
        connection.execute(statement(size), [*prefix, *values[done * width:(done + size) * width]])
        done += size


def _stored(shared: tuple[object, ...]) -> list[object]:
    return [
        format_time(value) if name == "time"  # type: ignore[arg-type]
        else orjson.dumps(list(value)).decode() if name in _COLLECTIONS  # type: ignore[call-overload]
        else value
        for name, value in zip(_RUN_COLUMNS, shared, strict=True)
    ]


def _insert_runs(connection: sqlite3.Connection, entries: Any, largest: int) -> None:
    width = len(_OWN_COLUMNS)
    full: list[object] = []
    for shared, own in _runs(entries):
        stored = _stored(shared)
        if len(own) >= SHORT_RUN * width:
            run_rows = _run_rows(connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
            _execute_rows(connection, _insert_run, stored, own, width, run_rows)
            continue
        for start in range(0, len(own), width):
            full += [own[start + index] if is_own else stored[index] for is_own, index in _PLACES]
    if full:
        _execute_rows(connection, sqlite_thread._insert, [], full, len(ENTRY_COLUMNS), largest)


def install_run_binding_insert() -> Restore:
    return _swap(sqlite_thread, "_insert_entries", _insert_runs)

