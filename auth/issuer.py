"""The development issuer: the hub signs tokens itself.

Used by ``hub demo`` and ``hub token`` (tokens for the demo roles) and by the
client-credentials endpoint (the hub is the issuer for its service accounts). Its EC
P-256 keys live in one JWK-set file in the data directory, readable by the owner only
(mode 0600). Each key's ``kid`` is its RFC 7638 thumbprint.

Rotation: `rotate()` adds a new current signing key; older public keys stay in
`jwks()` until `remove_key(kid)`, so tokens they signed keep validating meanwhile.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

from auth.jwks import StaticKeySource, to_key_set

KEY_FILE = "issuer-keys.json"
ALGORITHM = "ES256"
MAX_TTL = 86400 * 30
RESERVED_CLAIMS = frozenset({"iss", "aud", "sub", "exp", "nbf", "iat", "jti"})

_NIK = re.compile(r"[0-9]{16}")
_KELURAHAN = re.compile(r"[0-9]{10}")
_NAME = re.compile(r"[A-Za-z0-9_.:\-]+")


class DevelopmentIssuer:
    """Signs tokens with a persisted EC P-256 key; publishes its public keys."""

    def __init__(
        self, *, issuer: str, audience: str, keys: list[ECKey], current_kid: str, path: Path | None
    ) -> None:
        if not issuer or not audience:
            raise ValueError("issuer and audience must be non-empty")
        self.issuer = issuer
        self.audience = audience
        self.algorithm = ALGORITHM
        self._keys = keys
        self._current_kid = current_kid
        self._path = path
        self._public: KeySet | None = None  # cached public key set, reset on changes
        self._current()  # fail now if the current kid is not among the keys

    # -- construction and persistence ------------------------------------------------

    @classmethod
    def load_or_create(cls, directory: Path, *, issuer: str, audience: str) -> DevelopmentIssuer:
        """Load the keys from `directory`, creating the directory and a key if absent."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = directory / KEY_FILE
        if not path.exists():
            key = _new_key()
            _create_once(path, _serialise([key], key.kid or ""))
        keys, current = _load(path)
        return cls(issuer=issuer, audience=audience, keys=keys, current_kid=current, path=path)

    @classmethod
    def ephemeral(cls, *, issuer: str, audience: str) -> DevelopmentIssuer:
        """An in-memory issuer (tests): nothing is written anywhere."""
        key = _new_key()
        return cls(issuer=issuer, audience=audience, keys=[key], current_kid=key.kid or "", path=None)

    @property
    def current_kid(self) -> str:
        return self._current_kid

    @property
    def kids(self) -> list[str]:
        return [key.kid or "" for key in self._keys]

    def rotate(self) -> str:
        """Add a new current signing key and return its kid; old keys stay published."""
        key = _new_key()
        self._keys.append(key)
        self._current_kid = key.kid or ""
        self._public = None
        self._save()
        return self._current_kid

    def remove_key(self, kid: str) -> None:
        """Stop publishing an old key: tokens it signed no longer validate."""
        if kid == self._current_kid:
            raise ValueError("the current signing key cannot be removed; rotate first")
        remaining = [key for key in self._keys if key.kid != kid]
        if len(remaining) == len(self._keys):
            raise ValueError(f"no key with kid {kid!r}")
        self._keys = remaining
        self._public = None
        self._save()

    # -- publishing ------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        """The public keys, as served at ``/.well-known/jwks.json``."""
        return {
            "keys": [
                {**key.as_dict(private=False), "use": "sig", "alg": ALGORITHM}
                for key in self._keys
            ]
        }

    def public_key_set(self) -> KeySet:
        """The published keys as a joserfc `KeySet` (cached until the keys change)."""
        if self._public is None:
            self._public = to_key_set(self.jwks())
        return self._public

    def key_source(self) -> StaticKeySource:
        """A key source for a `TokenValidator` that follows rotations in process."""
        return StaticKeySource(self.public_key_set)

    def signing_key_set(self) -> KeySet:
        """The current private key alone (joserfc then writes its kid in the header)."""
        return KeySet([self._current()])

    # -- issuing ---------------------------------------------------------------------

    def issue(
        self,
        *,
        subject: str,
        roles: Iterable[str] | str,
        ttl_seconds: int = 3600,
        kelurahan: str | None = None,
        nik: str | None = None,
        department: str | None = None,
        scopes: Iterable[str] = (),
        client_id: str | None = None,
        purpose: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        """A signed JWT for the given caller; bad input raises `ValueError`."""
        if not isinstance(subject, str) or not subject.strip():
            raise ValueError("subject must be a non-empty string")
        role_list = _roles(roles)
        if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int):
            raise ValueError("ttl_seconds must be a whole number of seconds")
        if not 1 <= ttl_seconds <= MAX_TTL:
            raise ValueError(f"ttl_seconds must be between 1 and {MAX_TTL}, got {ttl_seconds}")
        if nik is not None and not _NIK.fullmatch(nik):
            raise ValueError(f"nik must be 16 digits, got {nik!r}")
        if kelurahan is not None and not _KELURAHAN.fullmatch(kelurahan):
            raise ValueError(f"kelurahan must be a 10-digit code, got {kelurahan!r}")
        scope_list = _names(scopes, "scope")
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_seconds,
            "jti": secrets.token_urlsafe(16),
            "roles": role_list,
        }
        optional = {
            "kelurahan": kelurahan,
            "nik": nik,
            "department": department,
            "client_id": client_id,
            "purpose": purpose,
            "scope": " ".join(scope_list) or None,
        }
        claims.update({k: v for k, v in optional.items() if v is not None})
        if extra:
            clash = sorted(RESERVED_CLAIMS & set(extra))
            if clash:
                raise ValueError(f"extra claims may not override {clash}")
            claims.update(extra)
        return self.sign(claims)

    def sign(self, claims: Mapping[str, Any], *, typ: str = "JWT") -> str:
        """Sign ready-made claims with the current key (no validation)."""
        header = {"alg": ALGORITHM, "typ": typ, "kid": self._current_kid}
        return jwt.encode(header, dict(claims), self._current(), algorithms=[ALGORITHM])

    # -- internals -------------------------------------------------------------------

    def _current(self) -> ECKey:
        for key in self._keys:
            if key.kid == self._current_kid:
                return key
        raise ValueError(f"the current kid {self._current_kid!r} is not among the keys")

    def _save(self) -> None:
        if self._path is not None:
            _write_replace(self._path, _serialise(self._keys, self._current_kid))


def _new_key() -> ECKey:
    key = ECKey.generate_key("P-256", private=True)
    key.ensure_kid()
    return key


def _roles(roles: Iterable[str] | str) -> list[str]:
    if isinstance(roles, str):
        roles = [roles]
    role_list = _names(roles, "role")
    if not role_list:
        raise ValueError("at least one role is required")
    return role_list


def _names(values: Iterable[str], what: str) -> list[str]:
    if isinstance(values, str):
        values = values.split()
    result: list[str] = []
    for value in values:
        if not isinstance(value, str) or not _NAME.fullmatch(value):
            raise ValueError(f"{what} must be a non-empty name without spaces, got {value!r}")
        if value not in result:
            result.append(value)
    return result


def _serialise(keys: list[ECKey], current: str) -> bytes:
    document = {"current": current, "keys": [key.as_dict(private=True) for key in keys]}
    return json.dumps(document, indent=2).encode()


def _load(path: Path) -> tuple[list[ECKey], str]:
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)  # a key file others can read is tightened, not trusted less
    try:
        document = json.loads(path.read_bytes())
        current = document["current"]
        keys = [ECKey.import_key(data) for data in document["keys"]]
    except (OSError, ValueError, TypeError, KeyError, JoseError) as exc:
        raise ValueError(f"issuer key file {path} is unreadable or corrupt: {exc}") from exc
    if not isinstance(current, str) or not keys or not all(key.is_private for key in keys):
        raise ValueError(f"issuer key file {path} holds no usable private keys")
    for key in keys:
        key.ensure_kid()
    return keys, current


def _write_exclusive(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _temporary(path: Path, data: bytes) -> Path:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    _write_exclusive(temporary, data)
    return temporary


def _create_once(path: Path, data: bytes) -> None:
    """Create `path` whole, unless another process already did (then keep theirs)."""
    temporary = _temporary(path, data)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()


def _write_replace(path: Path, data: bytes) -> None:
    os.replace(_temporary(path, data), path)
