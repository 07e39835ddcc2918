"""From verified token claims to a `Principal`.

Issuers name their claims differently: the hub's own issuer puts roles in ``roles``,
a Keycloak realm in ``realm_access.roles``. A `ClaimMapping` says where each part of
the principal lives, so another issuer needs configuration, not code. Each entry is a
claim name or a dotted path into nested objects; an entry may list several
candidates (``("client_id", "azp")``). A literal claim name that contains dots
(``"https://example.org/roles"``) is tried before it is read as a path.

`map_claims` is pure: the claims have already been verified; it only checks their
shape and raises `AuthError` when they do not describe a usable caller. Roles the
policy does not know (`known_roles`: an identity provider's own ``offline_access``,
``uma_authorization``, ``default-roles-*``) are dropped here, so nothing downstream
ever sees them; a token left with no known role is refused (`NoKnownRole`, 403).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from auth.errors import AuthError, NoKnownRole
from auth.principal import ANONYMOUS_ROLE, Principal

ClaimPath = str | tuple[str, ...]

_NIK = re.compile(r"[0-9]{16}")  # ASCII digits only (`\d` also matches other scripts)
_KELURAHAN = re.compile(r"[0-9]{10}")
_MAX_TEXT = 256


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimMapping:
    """Where the parts of a principal live in a token's claims."""

    subject: ClaimPath = "sub"
    roles: ClaimPath = "roles"  # every listed path contributes roles
    department: ClaimPath = "department"
    kelurahan: ClaimPath = "kelurahan"
    nik: ClaimPath = "nik"
    scope: ClaimPath = ("scope", "scp")  # a space-separated string or a list
    client_id: ClaimPath = ("client_id", "azp")
    purpose: ClaimPath = "purpose"
    #: when given, roles outside this set are dropped (an issuer's own roles such
    #: as ``offline_access``); the hub passes the policy's roles
    known_roles: frozenset[str] | None = None

    @classmethod
    def from_overrides(
        cls,
        overrides: Mapping[str, str],
        *,
        known_roles: Iterable[str] | None = None,
    ) -> ClaimMapping:
        """Build a mapping from configuration: ``{"roles": "realm_access.roles"}``.

        A value may list candidates separated by commas: ``"client_id,azp"``.
        """
        names = {f.name for f in fields(cls)} - {"known_roles"}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise ValueError(
                f"unknown claim mapping entries {unknown}; known: {sorted(names)}"
            )
        values: dict[str, Any] = {}
        for name, raw in overrides.items():
            if not isinstance(raw, str) or not raw.strip():
                raise ValueError(f"claim mapping {name!r} must be a non-empty string")
            parts = tuple(p.strip() for p in raw.split(",") if p.strip())
            values[name] = parts[0] if len(parts) == 1 else parts
        if known_roles is not None:
            values["known_roles"] = frozenset(known_roles)
        return cls(**values)


def map_claims(claims: Mapping[str, Any], mapping: ClaimMapping) -> Principal:
    """Turn verified claims into a principal, or raise `AuthError`."""
    subject = _text(claims, mapping.subject, "subject")
    if subject is None:
        raise AuthError("token has no subject")
    roles = _roles(claims, mapping)
    nik = _text(claims, mapping.nik, "nik")
    if nik is not None and not _NIK.fullmatch(nik):
        raise AuthError("token claim 'nik' is not 16 digits")
    kelurahan = _text(claims, mapping.kelurahan, "kelurahan")
    if kelurahan is not None and not _KELURAHAN.fullmatch(kelurahan):
        raise AuthError("token claim 'kelurahan' is not a 10-digit code")
    return Principal(
        subject=subject,
        roles=roles,
        department=_text(claims, mapping.department, "department"),
        kelurahan=kelurahan,
        nik=nik,
        scopes=_scopes(claims, mapping.scope),
        client_id=_text(claims, mapping.client_id, "client id"),
        purpose=_text(claims, mapping.purpose, "purpose"),
    )


_MISSING = object()


def _lookup(claims: Mapping[str, Any], path: str) -> Any:
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _candidates(path: ClaimPath) -> tuple[str, ...]:
    return (path,) if isinstance(path, str) else path


def _first(claims: Mapping[str, Any], path: ClaimPath) -> Any:
    for candidate in _candidates(path):
        value = _lookup(claims, candidate)
        if value is not _MISSING and value is not None:
            return value
    return _MISSING


def _text(claims: Mapping[str, Any], path: ClaimPath, what: str) -> str | None:
    value = _first(claims, path)
    if value is _MISSING:
        return None
    # identity providers often deliver user attributes as one-element lists
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, str) or len(value) > _MAX_TEXT:
        raise AuthError(f"token claim for {what} has an unexpected structure")
    return value or None


def _roles(claims: Mapping[str, Any], mapping: ClaimMapping) -> frozenset[str]:
    found: set[str] = set()
    for candidate in _candidates(mapping.roles):
        value = _lookup(claims, candidate)
        if value is _MISSING or value is None:
            continue
        if isinstance(value, str):
            value = value.split()
        if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
            raise AuthError("token roles have an unexpected structure")
        found.update(r for r in value if r)
    found.discard(ANONYMOUS_ROLE)  # nobody signs in as "nobody"
    if mapping.known_roles is not None:
        found &= mapping.known_roles
    if not found:
        raise NoKnownRole("the token carries no role this hub knows")
    return frozenset(found)


def _scopes(claims: Mapping[str, Any], path: ClaimPath) -> frozenset[str]:
    value = _first(claims, path)
    if value is _MISSING:
        return frozenset()
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return frozenset(s for s in value if s)
    raise AuthError("token scope has an unexpected structure")
