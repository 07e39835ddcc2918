"""Sealed cursors: opaque, authenticated, and bound to the listing they came from.

A source's own cursor may carry a record's key (the population source pages by NIK),
so the hub never hands one out as it is. A hub cursor is the source cursor and an
offset, encrypted with AES-GCM-SIV under a server key; the listing's binding (root
field, normalised filter, roles and subject: `binding`) is the associated data, so a
cursor opens only for the query, role set and caller that received it. A forged,
altered, truncated or foreign cursor fails to open: BAD_USER_INPUT.

    token = base64url(version | AES-GCM-SIV(offset[2] | kind[1] | source cursor))

GCM-SIV stays safe under a repeated nonce (it then reveals only that two plaintexts
with the same associated data are equal), so the nonce is fixed: the same position of
the same listing for the same caller gets the same cursor, answers stay reproducible,
and no randomness is drawn per cursor.

The key comes from the hub's configuration (`hub.identity.cursor_key`): the same on
every instance of a deployment, so a cursor from one instance opens on another.
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from schema.errors import BadUserInput

_VERSION = b"\x01"
_NONCE = bytes(12)
_TAG = 16
_HEAD = struct.Struct(">HB")  # offset, whether a source cursor follows
_MAX_TOKEN = 1024  # characters; a source cursor is short
_REFUSAL = "`after` is not a cursor this API returned for this query"


def derive_key(material: bytes) -> bytes:
    """A 256-bit cursor key from shared secret material (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"simpul cursor key v1").derive(material)


def binding(root_field: str, flt: object, roles: Iterable[str], subject: str) -> bytes:
    """What a listing's cursors are bound to. `flt` is the connector filter after the
    policy's narrowing (a frozen dataclass: its repr names every value)."""
    return "\x1f".join((root_field, ",".join(sorted(roles)), subject, repr(flt))).encode()


@dataclass(frozen=True, slots=True)
class HubCursor:
    """A position in a listing: the page at the source's cursor, after `offset` items."""

    source_cursor: str | None
    offset: int = 0


class CursorCodec:
    """Seals and opens hub cursors under one key; shared by every request."""

    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCMSIV(key)

    @classmethod
    def ephemeral(cls) -> CursorCodec:
        """A codec with a key of its own (one process: tests, embedded use)."""
        return cls(AESGCMSIV.generate_key(bit_length=256))

    def seal(self, cursor: HubCursor, bound_to: bytes) -> str:
        source = cursor.source_cursor
        plain = _HEAD.pack(cursor.offset, source is not None) + (source or "").encode()
        sealed = _VERSION + self._aead.encrypt(_NONCE, plain, _VERSION + bound_to)
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")

    def open(self, token: str, bound_to: bytes, *, max_offset: int) -> HubCursor:
        """The cursor sealed in `token` for `bound_to`; BAD_USER_INPUT for anything else,
        and for an offset beyond `max_offset` (the largest page)."""
        try:
            if len(token) > _MAX_TOKEN:
                raise ValueError("too long")
            raw = base64.urlsafe_b64decode(token.encode("ascii") + b"=" * (-len(token) % 4))
            if len(raw) < 1 + _TAG + _HEAD.size or raw[:1] != _VERSION:
                raise ValueError("not a cursor")
            plain = self._aead.decrypt(_NONCE, raw[1:], _VERSION + bound_to)
            offset, has_source = _HEAD.unpack_from(plain)
            source = plain[_HEAD.size :].decode() if has_source else None
        except (ValueError, UnicodeError, binascii.Error, InvalidTag, struct.error) as exc:
            raise BadUserInput(
                f"{_REFUSAL} (forged, altered, truncated, or from another query or caller)"
            ) from exc
        if offset > max_offset:  # sealed by us, so only an older configuration's
            raise BadUserInput(f"{_REFUSAL} (its offset is beyond the largest page)")
        return HubCursor(source, offset)
