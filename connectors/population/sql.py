"""The population registry over SQL (SQLAlchemy Core, async): SQLite or PostgreSQL.

Every call takes its own connection (calls may run concurrently), runs under one
timeout, and translates database errors at one boundary (`_engine.connection`).
A row whose codes cannot be mapped is skipped with a logged warning and counted in
`skipped` (by column and value), so one bad row never fails a whole page.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import tzinfo
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Select,
    String,
    and_,
    any_,
    bindparam,
    false,
    func,
    or_,
    select,
)
import sqlalchemy.ext.asyncio as sqlalchemy_asyncio

from connectors._codes import UnknownCode
from connectors._support import (
    NIK_PATTERN,
    WIB,
    aware,
    check_kelurahan_codes,
    check_limit,
    check_page,
    chunked,
    decode_keyset_cursor,
    decode_nik_cursor,
    encode_cursor,
    encode_keyset_cursor,
    unique,
)
from connectors.errors import SourceRejected
from connectors.population import codes
from connectors.population._engine import async_url, connection, engine_options
from connectors.population._table import build_table, row_to_citizen
from connectors.population.mapping import DEFAULT_MAPPING, PopulationMapping
from connectors.records import (
    Change,
    ChangeBatch,
    CitizenFilter,
    CitizenRecord,
    Page,
    PageRequest,
)

log = logging.getLogger("connectors.population")

#: Keys per `IN (...)` (one bound parameter each); PostgreSQL uses `= ANY(array)`.
IN_CHUNK = 500


class SqlPopulationSource:
    def __init__(
        self,
        url: str,
        *,
        mapping: PopulationMapping = DEFAULT_MAPPING,
        read_only: bool = True,
        pool_size: int = 5,
        timeout: float = 5.0,
        source_id: str = "population",
        tz: tzinfo = WIB,
    ) -> None:
        if not timeout > 0:
            raise ValueError("timeout must be positive")
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        db_url = async_url(url, read_only=read_only)
        self.source_id = source_id
        self.skipped: Counter[str] = Counter()
        self._timeout = timeout
        self._tz = tz
        self._postgres = db_url.get_backend_name() == "postgresql"
        # through the module, where tracing instrumentation (hub.telemetry) patches it
        self._engine = sqlalchemy_asyncio.create_async_engine(
            db_url, **engine_options(db_url, pool_size=pool_size, timeout=timeout)
        )
        self._bind = (
            self._engine.execution_options(postgresql_readonly=True)
            if self._postgres and read_only
            else self._engine
        )
        self._table = build_table(mapping)
        self._columns = [column.label(column.key) for column in self._table.c]
        c = self._table.c
        self._by_nik = self._by_keys(c.nik)
        self._by_family = self._by_keys(c.family_number).order_by(
            c.family_number, c.family_relationship, c.birth_date, c.nik
        )

    # -- Source ----------------------------------------------------------------

    async def check(self) -> None:
        async with self._connect("check") as conn:
            await conn.execute(select(*self._columns).limit(1))

    async def aclose(self) -> None:
        await self._engine.dispose()

    # -- PopulationSource --------------------------------------------------------

    async def citizens_by_nik(self, niks: Sequence[str]) -> dict[str, CitizenRecord]:
        keys = unique(niks)
        found: dict[str, CitizenRecord] = {}
        if not keys:
            return found
        async with self._connect("citizens_by_nik") as conn:
            for chunk in self._key_chunks(keys):
                rows = await conn.execute(self._by_nik, {"keys": chunk})
                for row in rows.mappings():
                    record = self._record(row, "citizens_by_nik")
                    if record is not None:
                        found[record.nik] = record
        return found

    async def families_by_number(
        self, numbers: Sequence[str]
    ) -> dict[str, list[CitizenRecord]]:
        keys = unique(numbers)
        families: dict[str, list[CitizenRecord]] = {}
        if not keys:
            return families
        async with self._connect("families_by_number") as conn:
            for chunk in self._key_chunks(keys):
                for row in (await conn.execute(self._by_family, {"keys": chunk})).mappings():
                    record = self._record(row, "families_by_number")
                    if record is not None:
                        families.setdefault(record.family_number, []).append(record)
        return families

    async def list_citizens(
        self, flt: CitizenFilter, page: PageRequest
    ) -> Page[CitizenRecord]:
        operation = "list_citizens"
        check_page(page, source=self.source_id, operation=operation)
        conditions = self._conditions(flt, operation)
        c = self._table.c
        keyset = list(conditions)
        if page.after is not None:
            after = decode_nik_cursor(
                page.after, source=self.source_id, operation=operation
            )
            keyset.append(c.nik > after)
        stmt = (
            select(*self._columns).where(*keyset).order_by(c.nik).limit(page.first + 1)
        )
        async with self._connect(operation) as conn:
            rows = list((await conn.execute(stmt)).mappings())
            total = None
            if page.with_total:
                count = select(func.count()).select_from(self._table).where(*conditions)
                total = int((await conn.execute(count)).scalar_one())
        has_next = len(rows) > page.first
        rows = rows[: page.first]
        items = [
            r for r in (self._record(row, operation) for row in rows) if r is not None
        ]
        end_cursor = encode_cursor(str(rows[-1]["nik"]).strip()) if rows else None
        return Page(items=items, end_cursor=end_cursor, has_next=has_next, total=total)

    async def changes_since(self, cursor: str | None, limit: int = 1000) -> ChangeBatch:
        operation = "changes_since"
        check_limit(limit, source=self.source_id, operation=operation)
        c = self._table.c
        conditions: list[ColumnElement[bool]] = [c.updated_at.is_not(None)]
        if cursor is not None:
            at, nik = decode_keyset_cursor(
                cursor, source=self.source_id, operation=operation
            )
            if not NIK_PATTERN.fullmatch(nik):
                raise SourceRejected(
                    self.source_id, "invalid cursor", operation=operation
                )
            conditions.append(
                or_(c.updated_at > at, and_(c.updated_at == at, c.nik > nik))
            )
        stmt: Select[Any] = (
            select(c.nik, c.updated_at)
            .where(*conditions)
            .order_by(c.updated_at, c.nik)
            .limit(limit + 1)
        )
        async with self._connect(operation) as conn:
            rows = list(await conn.execute(stmt))
        has_more = len(rows) > limit
        rows = rows[:limit]
        changes = [
            Change(key=str(nik).strip(), at=aware(at, self._tz)) for nik, at in rows
        ]
        next_cursor = (
            encode_keyset_cursor(rows[-1][1], str(rows[-1][0]).strip())
            if rows
            else None
        )
        return ChangeBatch(changes=changes, cursor=next_cursor, has_more=has_more)

    # -- internals ---------------------------------------------------------------

    def _connect(self, operation: str) -> Any:
        return connection(
            self._bind,
            source=self.source_id,
            operation=operation,
            timeout=self._timeout,
        )

    def _by_keys(self, column: Any) -> Select[Any]:
        """The row of each key in `:keys` (a list): built once, as building a statement
        (coercing its columns and clauses) costs more CPU than executing it again."""
        if self._postgres:
            return select(*self._columns).where(column == any_(bindparam("keys", type_=ARRAY(String))))
        return select(*self._columns).where(column.in_(bindparam("keys", expanding=True)))

    def _key_chunks(self, keys: list[str]) -> list[list[str]]:
        """`:keys` per statement: all at once as an array, else at most IN_CHUNK."""
        if self._postgres:
            return [keys]
        return [list(chunk) for chunk in chunked(keys, IN_CHUNK)]

    def _conditions(
        self, flt: CitizenFilter, operation: str
    ) -> list[ColumnElement[bool]]:
        c = self._table.c
        conditions: list[ColumnElement[bool]] = []
        if flt.kelurahan_codes is not None:
            check_kelurahan_codes(
                flt.kelurahan_codes, source=self.source_id, operation=operation
            )
            places = [
                and_(
                    c.province == code[0:2],
                    c.regency == code[2:4],
                    c.district == code[4:6],
                    c.village == code[6:10],
                )
                for code in unique(flt.kelurahan_codes)
            ]
            conditions.append(or_(*places) if places else false())
        if flt.name_contains:
            conditions.append(c.full_name.icontains(flt.name_contains, autoescape=True))
        if flt.family_number is not None:
            conditions.append(c.family_number == flt.family_number)
        if flt.sex is not None:
            conditions.append(c.sex == codes.SEX_CODES[flt.sex])
        if flt.born_from is not None:
            conditions.append(c.birth_date >= flt.born_from)
        if flt.born_to is not None:
            conditions.append(c.birth_date <= flt.born_to)
        return conditions

    def _record(self, row: Mapping[str, Any], operation: str) -> CitizenRecord | None:
        try:
            return row_to_citizen(row, self._tz)
        except UnknownCode as exc:
            reason = f"{exc.column}={exc.value!r}"
        except (ValueError, TypeError, AttributeError) as exc:
            reason = f"malformed ({type(exc).__name__})"
        self.skipped[reason] += 1
        log.warning(
            "%s.%s: skipped row NIK %s: %s",
            self.source_id,
            operation,
            str(row.get("nik", "?"))[:6] + "…",
            reason,
        )
        return None
