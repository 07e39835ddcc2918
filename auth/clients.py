"""Service accounts: OAuth2 clients that obtain tokens with client credentials.

A client record holds the roles, scopes and (optionally) the one purpose its tokens
carry, the lifetime of those tokens and a salted scrypt hash of its secret; the secret
itself is shown once, by `add_client`, and never stored.

The table lives on `metadata` so that the hub's store can create it (``await
conn.run_sync(metadata.create_all)``), or copy it onto its own ``MetaData`` with
``clients_table.to_metadata(...)``. Functions take an `AsyncConnection` or
`AsyncSession` and never commit: the caller owns the transaction.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

DEFAULT_TOKEN_LIFETIME = 300
MAX_TOKEN_LIFETIME = 86400

metadata = sa.MetaData()

clients_table = sa.Table(
    "service_clients",
    metadata,
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, default=""),
    sa.Column("secret_hash", sa.String(255), nullable=False),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("scopes", sa.JSON, nullable=False),
    sa.Column("purpose", sa.String(64), nullable=True),
    sa.Column("token_lifetime", sa.Integer, nullable=False),
    sa.Column("revoked", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)

Connection = AsyncConnection | AsyncSession

_CLIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{2,63}")
_NAME = re.compile(r"[A-Za-z0-9_.:\-]+")

# scrypt cost: n=2**14, r=8, p=1 (16 MiB, tens of milliseconds), per-client salt
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


class ClientExists(ValueError):
    """A client with this id is already registered."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceClient:
    client_id: str
    name: str
    roles: frozenset[str]
    scopes: frozenset[str]
    purpose: str | None
    token_lifetime: int
    revoked: bool
    created_at: datetime
    revoked_at: datetime | None = None
    secret_hash: str = field(repr=False)

    def check_secret(self, secret: str) -> bool:
        return verify_secret(secret, self.secret_hash)


# -- secrets -----------------------------------------------------------------------


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(secret, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return "$".join(
        ["scrypt", str(_SCRYPT_N), str(_SCRYPT_R), str(_SCRYPT_P), _b64(salt), _b64(digest)]
    )


def verify_secret(secret: str, encoded: str) -> bool:
    """Constant-time check of `secret` against a stored hash; False for any malformed hash."""
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.urlsafe_b64decode(digest)
        actual = _scrypt(secret, base64.urlsafe_b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


# -- store -------------------------------------------------------------------------


async def add_client(
    conn: Connection,
    *,
    roles: Iterable[str],
    scopes: Iterable[str] = (),
    purpose: str | None = None,
    token_lifetime: int = DEFAULT_TOKEN_LIFETIME,
    name: str = "",
    client_id: str | None = None,
) -> tuple[str, str]:
    """Register a client; returns ``(client_id, secret)``. The secret is not stored."""
    role_list = _names(roles, "role")
    if not role_list:
        raise ValueError("a service client needs at least one role")
    scope_list = _names(scopes, "scope")
    if purpose is not None and not _NAME.fullmatch(purpose):
        raise ValueError(f"purpose must be a code without spaces, got {purpose!r}")
    if isinstance(token_lifetime, bool) or not isinstance(token_lifetime, int):
        raise ValueError("token_lifetime must be a whole number of seconds")
    if not 1 <= token_lifetime <= MAX_TOKEN_LIFETIME:
        raise ValueError(f"token_lifetime must be between 1 and {MAX_TOKEN_LIFETIME} seconds")
    if len(name) > 200:
        raise ValueError("name must be at most 200 characters")
    if client_id is None:
        client_id = "svc-" + secrets.token_hex(8)
    elif not _CLIENT_ID.fullmatch(client_id):
        raise ValueError(
            "client_id must be 3-64 letters, digits, '.', '_' or '-', starting with a "
            f"letter or digit; got {client_id!r}"
        )
    secret = secrets.token_urlsafe(32)
    values = {
        "client_id": client_id,
        "name": name,
        "secret_hash": hash_secret(secret),
        "roles": role_list,
        "scopes": scope_list,
        "purpose": purpose,
        "token_lifetime": token_lifetime,
        "revoked": False,
        "created_at": datetime.now(UTC),
    }
    # look first, so that the usual duplicate leaves the caller's transaction usable
    # (a savepoint would too, but pysqlite's savepoints need engine-level set-up)
    if await get_client(conn, client_id) is not None:
        raise ClientExists(f"client {client_id!r} already exists")
    try:
        await conn.execute(clients_table.insert().values(**values))
    except IntegrityError as exc:  # a concurrent insert won the race
        raise ClientExists(f"client {client_id!r} already exists") from exc
    return client_id, secret


async def get_client(conn: Connection, client_id: str) -> ServiceClient | None:
    """The client record (revoked ones included), or None."""
    result = await conn.execute(
        sa.select(clients_table).where(clients_table.c.client_id == client_id)
    )
    row = result.mappings().first()
    return _record(row) if row is not None else None


async def list_clients(conn: Connection, *, include_revoked: bool = True) -> list[ServiceClient]:
    query = sa.select(clients_table).order_by(clients_table.c.created_at, clients_table.c.client_id)
    if not include_revoked:
        query = query.where(clients_table.c.revoked.is_(False))
    result = await conn.execute(query)
    return [_record(row) for row in result.mappings()]


async def revoke_client(conn: Connection, client_id: str) -> bool:
    """Revoke a client; True if it existed and was active. Hubs refuse its tokens once
    they have re-read the revoked clients (`revoked_client_ids`), within seconds."""
    result = await conn.execute(
        clients_table.update()
        .where(clients_table.c.client_id == client_id, clients_table.c.revoked.is_(False))
        .values(revoked=True, revoked_at=datetime.now(UTC))
    )
    return bool(cast(CursorResult[Any], result).rowcount)


async def revoked_client_ids(conn: Connection) -> frozenset[str]:
    """Every revoked client's id (a revoked client stays revoked: ids are never reused)."""
    result = await conn.execute(sa.select(clients_table.c.client_id).where(clients_table.c.revoked.is_(True)))
    return frozenset(result.scalars())


def _record(row: Any) -> ServiceClient:
    return ServiceClient(
        client_id=row["client_id"],
        name=row["name"],
        secret_hash=row["secret_hash"],
        roles=frozenset(row["roles"]),
        scopes=frozenset(row["scopes"]),
        purpose=row["purpose"],
        token_lifetime=row["token_lifetime"],
        revoked=row["revoked"],
        created_at=_utc(row["created_at"]),
        revoked_at=_utc(row["revoked_at"]) if row["revoked_at"] is not None else None,
    )


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were written in UTC
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _names(values: Iterable[str], what: str) -> list[str]:
    if isinstance(values, str):
        values = values.split()
    result: list[str] = []
    for value in values:
        if not isinstance(value, str) or not _NAME.fullmatch(value):
            raise ValueError(f"{what} must be a non-empty name without spaces, got {value!r}")
        if value not in result:
            result.append(value)
    return sorted(result)


__all__: Sequence[str] = (
    "ClientExists",
    "DEFAULT_TOKEN_LIFETIME",
    "ServiceClient",
    "add_client",
    "clients_table",
    "get_client",
    "hash_secret",
    "list_clients",
    "metadata",
    "revoke_client",
    "revoked_client_ids",
    "verify_secret",
)
