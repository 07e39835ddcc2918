"""Errors as the sample services answer them: `{"error": {"kode": ..., "pesan": ...}}`.

    ApiError            raised anywhere in a handler, answered by `exception_handlers`
    HTTPException       Starlette's own (404 route, 405 method, 413 body) -> same shape
    Exception           anything unexpected -> 500 `KESALAHAN_INTERNAL`, no traceback
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

BAD_REQUEST = "PERMINTAAN_TIDAK_VALID"
NOT_FOUND = "TIDAK_DITEMUKAN"
INVALID_TRANSITION = "TRANSISI_TIDAK_VALID"
API_KEY_INVALID = "API_KEY_INVALID"
FAILURE = "GANGGUAN"
IDEMPOTENCY_KEY_REUSED = "KUNCI_IDEMPOTENSI_BENTROK"
BODY_TOO_LARGE = "PERMINTAAN_TERLALU_BESAR"

_HTTP_CODES = {
    400: BAD_REQUEST,
    401: API_KEY_INVALID,
    404: NOT_FOUND,
    405: "METODE_TIDAK_DIIZINKAN",
    413: BODY_TOO_LARGE,
    503: FAILURE,
}


class JSONResponse(Response):
    """JSON rendered with orjson (pages of up to 1,000 records)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class ApiError(Exception):
    """`rincian`, when given, is a list of details (one per document at fault, say)
    answered beside `kode` and `pesan`."""

    def __init__(self, status_code: int, kode: str, pesan: str, *, rincian: list[Any] | None = None) -> None:
        super().__init__(pesan)
        self.status_code = status_code
        self.kode = kode
        self.pesan = pesan
        self.rincian = rincian


def bad_request(pesan: str) -> ApiError:
    return ApiError(400, BAD_REQUEST, pesan)


def not_found(pesan: str) -> ApiError:
    return ApiError(404, NOT_FOUND, pesan)


def error_response(status_code: int, kode: str, pesan: str, *, rincian: list[Any] | None = None) -> JSONResponse:
    error: dict[str, Any] = {"kode": kode, "pesan": pesan}
    if rincian is not None:
        error["rincian"] = rincian
    return JSONResponse({"error": error}, status_code=status_code)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status_code, exc.kode, exc.pesan, rincian=exc.rincian)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    kode = _HTTP_CODES.get(exc.status_code, "KESALAHAN_HTTP")
    return error_response(exc.status_code, kode, str(exc.detail))


async def _internal_error(request: Request, exc: Exception) -> Response:
    return error_response(500, "KESALAHAN_INTERNAL", "terjadi kesalahan internal")


def exception_handlers() -> dict[Any, Any]:
    return {ApiError: _api_error, HTTPException: _http_error, Exception: _internal_error}
