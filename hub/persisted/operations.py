"""Pushed operations in the hub store: register, find, list, remove.

An operation is registered under its client and id with the role sets it was
validated for (`runs_as`: a service account's roles together, or each role an app's
users may hold, alone); an id keeps its document for good (a pushed app may still send it), so pushing
another document under a known id is refused (`OperationConflict`) until the old one is
removed. Functions take a connection and never commit: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.persisted.manifest import ManifestOperation
from hub.persisted.tables import operations_table as table


class OperationConflict(ValueError):
    """Ids already registered with another document; `ids` lists them."""

    def __init__(self, client: str, ids: Sequence[str]) -> None:
        self.ids = list(ids)
        super().__init__(
            f"client {client!r} already has {len(self.ids)} of these id(s) with another document "
            f"({', '.join(self.ids[:5])}{', ...' if len(self.ids) > 5 else ''}): an id keeps its "
            "document; give the new one a new id, or remove the old one first"
        )


@dataclass(frozen=True, slots=True)
class StoredOperation:
    client: str
    operation: ManifestOperation
    runs_as: frozenset[frozenset[str]]  # the role sets it was validated for
    pushed_at: datetime

    @property
    def id(self) -> str:
        return self.operation.id

    def may_run(self, roles: frozenset[str]) -> bool:
        """Whether a holder of `roles` (as the policy expands them) runs it: it holds
        every role of a set the operation was validated for (its schema is then that
        set's, or wider)."""
        return any(role_set <= roles for role_set in self.runs_as)

    @property
    def runs_as_text(self) -> str:
        return ",".join(sorted("+".join(sorted(s)) for s in self.runs_as))


@dataclass(frozen=True, slots=True)
class PushResult:
    added: int
    unchanged: int
    removed: int


async def push_operations(
    conn: AsyncConnection,
    client: str,
    operations: Sequence[ManifestOperation],
    *,
    runs_as: Iterable[Iterable[str]],
    replace: bool = False,
) -> PushResult:
    """Register `operations` for `client`, validated for the role sets `runs_as` (which
    replace those of operations already registered); with `replace`, the client's other
    operations go."""
    role_list = sorted({tuple(sorted(set(s))) for s in runs_as})
    if not role_list or not all(role_list):
        raise ValueError("an operation needs at least one role set to run as")
    existing = {op.id: op for op in await list_operations(conn, client)}
    conflicts = [op.id for op in operations if op.id in existing and existing[op.id].operation.body != op.body]
    if conflicts:
        raise OperationConflict(client, conflicts)
    now = datetime.now(UTC)
    new = [op for op in operations if op.id not in existing]
    if new:
        await conn.execute(table.insert(), [
            {"client": client, "operation_id": op.id, "body": op.body, "name": op.name,
             "operation_type": op.type, "sha256": op.sha256, "roles": role_list, "pushed_at": now}
            for op in new
        ])
    kept = [op.id for op in operations if op.id in existing]
    for chunk in _chunks(kept):
        await conn.execute(
            table.update().where(table.c.client == client, table.c.operation_id.in_(chunk)).values(roles=role_list)
        )
    removed = 0
    if replace:
        wanted = {op.id for op in operations}
        removed = await remove_operations(conn, client, [i for i in existing if i not in wanted])
    return PushResult(added=len(new), unchanged=len(kept), removed=removed)


async def find_operation(conn: AsyncConnection, client: str, operation_id: str) -> StoredOperation | None:
    result = await conn.execute(
        sa.select(table).where(table.c.client == client, table.c.operation_id == operation_id)
    )
    row = result.mappings().first()
    return _stored(row) if row is not None else None


async def list_operations(conn: AsyncConnection, client: str | None = None) -> list[StoredOperation]:
    query = sa.select(table).order_by(table.c.client, table.c.name, table.c.operation_id)
    if client is not None:
        query = query.where(table.c.client == client)
    return [_stored(row) for row in (await conn.execute(query)).mappings()]


async def remove_operations(conn: AsyncConnection, client: str, ids: Iterable[str] | None = None) -> int:
    """Remove the client's operations with `ids` (None: all of them); how many went."""
    if ids is None:
        result = await conn.execute(table.delete().where(table.c.client == client))
        return int(cast(CursorResult[Any], result).rowcount or 0)
    removed = 0
    for chunk in _chunks(list(ids)):
        result = await conn.execute(table.delete().where(table.c.client == client, table.c.operation_id.in_(chunk)))
        removed += int(cast(CursorResult[Any], result).rowcount or 0)
    return removed


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _stored(row: Any) -> StoredOperation:
    pushed = row["pushed_at"]
    return StoredOperation(
        client=row["client"],
        operation=ManifestOperation(
            id=row["operation_id"], body=row["body"], name=row["name"], type=row["operation_type"]
        ),
        runs_as=frozenset(frozenset(s) for s in row["roles"]),
        pushed_at=pushed if pushed.tzinfo is not None else pushed.replace(tzinfo=UTC),
    )


__all__ = [
    "OperationConflict",
    "PushResult",
    "StoredOperation",
    "find_operation",
    "list_operations",
    "push_operations",
    "remove_operations",
]
