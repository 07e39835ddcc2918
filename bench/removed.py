"""The micro-optimisations removed from the product (issue 22), as patches over it, so
that `python -m bench.micro_ab` can measure again what each one saved.

Each `install_*` puts the optimised version in place and returns a function that puts
the product's own version back. They copy the code as it was before it was removed
(commit 1c83934). For the optimisations that were kept, the last two put the plain
version in place instead. Nothing in the product imports this module.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

from prometheus_client.metrics import MetricWrapperBase
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, stop_before_delay, wait_exponential_jitter

from auth.ledger import model, sqlite_thread
from auth.ledger.model import LedgerDraft
from connectors.resilience import _guard
from schema import access, context, ledger_writes

Restore = Callable[[], None]


def _swap(owner: object, name: str, value: object) -> Restore:
    if isinstance(owner, type) and name not in owner.__dict__:  # inherited: put back by deleting
        setattr(owner, name, value)
        return lambda: delattr(owner, name)
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


# -- kept: their plain versions, installed to measure what the optimisation saves -------


def _frozen(cls: type) -> tuple[Callable[..., None], Callable[..., None], Callable[..., None]]:
    """The constructor and setters `cls` would have as a frozen slotted dataclass."""
    fields = [(f.name, f.type) if f.default is dataclasses.MISSING else (f.name, f.type, f.default)
              for f in dataclasses.fields(cls)]
    twin = dataclasses.make_dataclass(cls.__name__, fields, slots=True, frozen=True)

    def refuse(self: object, name: str, *value: object) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    return twin.__init__, refuse, refuse  # type: ignore[return-value]


def install_frozen_records() -> Restore:
    """LedgerDraft, LedgerEntry and schema.access.Shaped (one per record shown) as frozen
    dataclasses: constructors that assign through `object.__setattr__`."""
    restores = []
    for cls in (model.LedgerDraft, model.LedgerEntry, access.Shaped):
        init, setattr_, delattr_ = _frozen(cls)
        restores += [_swap(cls, "__init__", init), _swap(cls, "__setattr__", setattr_),
                     _swap(cls, "__delattr__", delattr_)]

    def restore() -> None:
        for undo in reversed(restores):
            undo()

    return restore


def install_full_rows_only() -> Restore:
    """The SQLite ledger thread inserting every entry as a full row (no run binding)."""
    return _swap(sqlite_thread, "SHORT_RUN", 10**9)
