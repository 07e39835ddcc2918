"""What the two REST backends share: search pages, key batches, change feed, health.

A record the backend cannot map (an unknown status code, a missing field) is skipped
with a logged warning and counted in `skipped` (by reason); the rest of the page is
served. Only a malformed answer as a whole is a `SourceUnavailable`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import httpx2 as httpx

from connectors._codes import UnknownCode, parse_datetime
from connectors._support import (
    MAX_PAGE_SIZE,
    check_limit,
    check_page,
    chunked,
    gather_all,
    unique,
)
from connectors.errors import SourceUnavailable
from connectors.http import PoolState, SourceHttpClient, path_key
from connectors.records import Change, ChangeBatch, Page, PageRequest

R = TypeVar("R")
S = TypeVar("S")

#: Errors a parser may raise on one malformed record.
RECORD_ERRORS = (UnknownCode, KeyError, ValueError, TypeError, AttributeError)


@dataclass(frozen=True, slots=True)
class SearchResult(Generic[R]):
    records: list[R]
    raw_count: int  # items in the answer, mapped or not
    next_cursor: str | None
    total: int | None


class RestCollection(Generic[R]):
    """One searchable collection (`permohonan`, `laporan`) of one REST source."""

    def __init__(
        self,
        http: SourceHttpClient,
        *,
        path: str,
        key_field: str,
        parse: Callable[[Mapping[str, Any]], R],
        logger: logging.Logger,
    ) -> None:
        self.http = http
        self.path = path
        self.key_field = key_field
        self.parse = parse
        self.skipped: Counter[str] = Counter()
        self._log = logger

    @property
    def source_id(self) -> str:
        return self.http.source_id

    async def search(self, body: Mapping[str, Any], operation: str) -> SearchResult[R]:
        answer = await self.http.request(
            "POST", f"{self.path}/cari", operation=operation, json=dict(body)
        )
        items = self.data_list(answer, operation)
        cursor = answer.get("next_cursor")
        total = answer.get("total")
        if cursor is not None and not isinstance(cursor, str):
            raise self.malformed(operation)
        if total is not None and (
            not isinstance(total, int) or isinstance(total, bool)
        ):
            raise self.malformed(operation)
        records = [
            r for r in (self.record(item, operation) for item in items) if r is not None
        ]
        return SearchResult(records, len(items), cursor, total)

    async def by_keys(self, field: str, keys: Sequence[str], operation: str) -> list[R]:
        """Records whose `field` is one of `keys`: one search per 1,000 keys, concurrently."""
        wanted = unique(keys)
        calls = [
            self.search({field: list(chunk), "limit": len(chunk)}, operation)
            for chunk in chunked(wanted, MAX_PAGE_SIZE)
        ]
        results = await gather_all(calls) if calls else []
        return [record for result in results for record in result.records]

    async def all_by_keys(
        self, field: str, keys: Sequence[str], operation: str
    ) -> list[R]:
        """Every record matching `keys` (many per key): pages through `next_cursor`."""
        wanted = unique(keys)
        calls = [
            self._all_pages(field, list(chunk), operation)
            for chunk in chunked(wanted, MAX_PAGE_SIZE)
        ]
        results = await gather_all(calls) if calls else []
        return [record for chunk in results for record in chunk]

    async def _all_pages(self, field: str, keys: list[str], operation: str) -> list[R]:
        records: list[R] = []
        cursor: str | None = None
        while True:
            body = {field: keys, "limit": MAX_PAGE_SIZE, "cursor": cursor}
            result = await self.search(body, operation)
            records.extend(result.records)
            if result.next_cursor is None or result.raw_count == 0:
                return records
            if result.next_cursor == cursor:
                raise self.malformed(operation)  # a source looping on one page
            cursor = result.next_cursor

    async def one(self, method: str, path: str, operation: str, **kwargs: Any) -> R:
        """A call answering one record (status change, submit); unmappable → unavailable."""
        answer = await self.http.request(method, path, operation=operation, **kwargs)
        if not isinstance(answer, dict):
            raise self.malformed(operation)
        try:
            return self.parse(answer)
        except RECORD_ERRORS as exc:
            raise SourceUnavailable(
                self.source_id,
                "unreadable record in the answer",
                operation=operation,
                source_says=str(exc),
            ) from exc

    async def changes(self, cursor: str | None, limit: int) -> ChangeBatch:
        operation = "changes_since"
        check_limit(limit, source=self.source_id, operation=operation)
        answer = await self.http.request(
            "GET",
            "/api/v1/perubahan",
            operation=operation,
            params={"since": cursor, "limit": limit},
        )
        items = self.data_list(answer, operation)
        try:
            changes = [
                Change(key=str(i["kunci"]), at=parse_datetime(i["waktu"]))
                for i in items
            ]
        except RECORD_ERRORS as exc:
            raise SourceUnavailable(
                self.source_id, "malformed change feed entry", operation=operation
            ) from exc
        next_cursor = answer.get("next_cursor") if changes else None
        if next_cursor is not None and not isinstance(next_cursor, str):
            raise self.malformed(operation)
        return ChangeBatch(
            changes, next_cursor, bool(answer.get("has_more")) and bool(changes)
        )

    async def health(self) -> None:
        answer = await self.http.request("GET", "/health", operation="check")
        if not isinstance(answer, dict) or answer.get("status") != "ok":
            raise SourceUnavailable(
                self.source_id, "health check failed", operation="check"
            )

    def data_list(self, answer: Any, operation: str) -> list[Any]:
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, list):
            raise self.malformed(operation)
        return data

    def record(self, item: Any, operation: str) -> R | None:
        try:
            if not isinstance(item, dict):
                raise TypeError("record is not an object")
            return self.parse(item)
        except UnknownCode as exc:
            reason = f"{exc.column}={exc.value!r}"
        except RECORD_ERRORS as exc:
            reason = f"malformed ({type(exc).__name__}: {exc})"[:120]
        self.skipped[reason] += 1
        key = item.get(self.key_field) if isinstance(item, dict) else None
        self._log.warning(
            "%s.%s: skipped record %s: %s", self.source_id, operation, key, reason
        )
        return None

    def malformed(self, operation: str) -> SourceUnavailable:
        return SourceUnavailable(
            self.source_id, "unexpected response shape", operation=operation
        )


class RestSource(Generic[R, S]):
    """Base of the REST backends: one HTTP client, one record collection of records
    `R` whose workflow statuses `S` map to the source's codes through `status_codes`.

    A backend names its collection in class attributes; the connection settings are the
    same for every backend, so the constructor lives here."""

    path: str
    key_field: str
    parse: Callable[[Mapping[str, Any]], R]
    status_codes: Mapping[S, str]
    log: logging.Logger
    default_source_id: str

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int = 20,
        source_id: str | None = None,
    ) -> None:
        http = SourceHttpClient(
            base_url,
            api_key=api_key,
            source_id=source_id or self.default_source_id,
            timeout=timeout,
            transport=transport,
            max_connections=max_connections,
        )
        self.source_id = http.source_id
        self._http = http
        self._records = RestCollection(
            http,
            path=self.path,
            key_field=self.key_field,
            parse=self.parse,
            logger=self.log,
        )
        self._status_codes = self.status_codes

    @property
    def skipped(self) -> Counter[str]:
        """Records left out because they could not be mapped, by reason."""
        return self._records.skipped

    async def check(self) -> None:
        await self._records.health()

    def pool_state(self) -> PoolState:
        """The HTTP connection pool to the source, counted now (`PooledSource`)."""
        return self._http.pool_state()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def update_status(
        self,
        number: str,
        status: S,
        *,
        note: str | None,
        actor: str,
        idempotency_key: str | None = None,
    ) -> R:
        return await self._records.one(
            "POST",
            f"{self._records.path}/{path_key(number)}/status",
            "update_status",
            json={
                "status": self._status_codes[status],
                "catatan": note,
                "petugas": actor,
            },
            idempotency_key=idempotency_key,
        )

    async def changes_since(self, cursor: str | None, limit: int = 1000) -> ChangeBatch:
        return await self._records.changes(cursor, limit)

    async def _by_number(
        self,
        field: str,
        numbers: Sequence[str],
        operation: str,
        *,
        number_of: Callable[[R], str],
    ) -> dict[str, R]:
        wanted = set(numbers)
        found = await self._records.by_keys(field, numbers, operation)
        return {number_of(r): r for r in found if number_of(r) in wanted}

    async def _by_person(
        self,
        field: str,
        niks: Sequence[str],
        operation: str,
        *,
        nik_of: Callable[[R], str | None],
        newest_first: Callable[[R], tuple[datetime, str]],
    ) -> dict[str, list[R]]:
        """Records per NIK, newest first."""
        wanted = set(niks)
        found = await self._records.all_by_keys(field, niks, operation)
        grouped: dict[str, list[R]] = {}
        for record in found:
            nik = nik_of(record)
            if nik is not None and nik in wanted:
                grouped.setdefault(nik, []).append(record)
        for records in grouped.values():
            records.sort(key=newest_first, reverse=True)
        return grouped

    async def _list(
        self,
        page: PageRequest,
        operation: str,
        *,
        body: Callable[[], dict[str, Any] | None],
    ) -> Page[R]:
        """One page of the `/cari` search for `body()` (None: an empty page)."""
        check_page(page, source=self.source_id, operation=operation)
        filters = body()
        if filters is None:
            return Page([], None, False, 0 if page.with_total else None)
        filters.update(
            limit=max(page.first, 1), cursor=page.after, include_total=page.with_total
        )
        result = await self._records.search(filters, operation)
        total = result.total if page.with_total else None
        if page.first == 0:
            return Page([], None, result.raw_count > 0, total)
        return Page(
            result.records, result.next_cursor, result.next_cursor is not None, total
        )
