"""Opaque keyset cursors: the (time, number) of the last record of a page."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

import orjson

from demo.service_common.errors import bad_request


def encode_cursor(moment: datetime, key: str) -> str:
    raw = orjson.dumps([moment.isoformat(), key])
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment, key = orjson.loads(raw)
        if not isinstance(moment, str) or not isinstance(key, str):
            raise ValueError(cursor)
        return datetime.fromisoformat(moment), key
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise bad_request("cursor tidak valid") from exc
