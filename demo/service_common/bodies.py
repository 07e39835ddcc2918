"""Request parsing: JSON bodies and query strings through pydantic models.

Every failure becomes a 400 `PERMINTAAN_TIDAK_VALID` naming the field and the reason.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator
from starlette.requests import Request

from demo.service_common.errors import BODY_TOO_LARGE, ApiError, bad_request
from demo.service_common.timeutil import day_after, day_start

M = TypeVar("M", bound=BaseModel)

MAX_KEYS = 1000
MAX_BODY_BYTES = 1024 * 1024

Key = Annotated[str, StringConstraints(min_length=1, max_length=100)]
KeyList = Annotated[list[Key], Field(max_length=MAX_KEYS)]


class StrictBody(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class SearchBody(StrictBody):
    """The filters common to both search endpoints (API.md, "Common to both")."""

    limit: int = Field(50, ge=1, le=1000)
    cursor: str | None = None
    include_total: bool = False
    dari: date | None = None
    sampai: date | None = None

    @model_validator(mode="after")
    def _period_in_order(self) -> SearchBody:
        if self.dari and self.sampai and self.sampai < self.dari:
            raise ValueError("sampai tidak boleh sebelum dari")
        return self


class StatusBody(StrictBody):
    status: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    catatan: Annotated[str, StringConstraints(max_length=2000)] | None = None
    petugas: Annotated[str, StringConstraints(max_length=100)] | None = None


def describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"])
        parts.append(f"{where}: {error['msg']}" if where else str(error["msg"]))
    return "; ".join(parts)


async def read_body(request: Request, *, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, refused with 413 past `limit` bytes (declared or streamed)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, BODY_TOO_LARGE, f"isi permintaan lebih dari {limit} byte")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, BODY_TOO_LARGE, f"isi permintaan lebih dari {limit} byte")
        chunks.append(chunk)
    return b"".join(chunks)


async def parse_body(request: Request, model: type[M]) -> M:
    raw = await read_body(request)
    if not raw.strip():
        raw = b"{}"
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise bad_request(describe(exc)) from exc


def parse_query(request: Request, model: type[M], *, lists: tuple[str, ...] = ()) -> M:
    """Query parameters; names in `lists` may repeat or hold comma-separated values."""
    data: dict[str, Any] = {}
    for name in request.query_params:
        if name in lists:
            values = request.query_params.getlist(name)
            data[name] = [part for value in values for part in value.split(",") if part]
        else:
            data[name] = request.query_params[name]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise bad_request(describe(exc)) from exc


class LaxQuery(BaseModel):
    """Query strings are text: numbers and dates are converted, unknown names refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PeriodQuery(LaxQuery):
    dari: date | None = None
    sampai: date | None = None

    @model_validator(mode="after")
    def _period_in_order(self) -> PeriodQuery:
        if self.dari and self.sampai and self.sampai < self.dari:
            raise ValueError("sampai tidak boleh sebelum dari")
        return self


def one_of(allowed: tuple[str, ...]) -> Any:
    """A string type accepting only `allowed` values (error lists them)."""
    permitted = frozenset(allowed)

    def check(value: str) -> str:
        if value not in permitted:
            raise ValueError(f"{value!r} bukan salah satu dari {', '.join(allowed)}")
        return value

    return Annotated[str, AfterValidator(check)]


def list_of(allowed: tuple[str, ...]) -> Any:
    """A list filter whose items must be among `allowed`."""
    return Annotated[list[one_of(allowed)], Field(max_length=len(allowed))]  # type: ignore[misc]


def period_conditions(column: Any, dari: date | None, sampai: date | None) -> list[Any]:
    conditions = []
    if dari is not None:
        conditions.append(column >= day_start(dari))
    if sampai is not None:
        conditions.append(column < day_after(sampai))
    return conditions
