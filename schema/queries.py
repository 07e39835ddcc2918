"""The root query: one entry point per record kind, lists as Relay connections."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import strawberry
from strawberry.types import Info

from connectors.records import Page, PageRequest
from schema.context import Context
from schema.errors import BadUserInput
from schema.inputs import ApplicationFilter, CitizenFilter, ComplaintFilter, checked_nik
from schema.pagination import fetch_window, page_size
from schema.types.application import Application
from schema.types.citizen import Citizen, Family
from schema.types.common import Connection, Edge, PageInfo
from schema.types.complaint import Complaint
from schema.types.system import Me, SourceState, probe_all

R = TypeVar("R")
N = TypeVar("N")

MAX_NUMBER_LENGTH = 64


def _wants_total(info: Info) -> bool:
    return any(
        getattr(selection, "name", None) == "totalCount"
        for field in info.selected_fields
        for selection in field.selections
    )


def _checked_number(value: str, *, argument: str) -> str:
    if not value or len(value) > MAX_NUMBER_LENGTH or not value.isprintable():
        raise BadUserInput(f"`{argument}` is not a record number")
    return value


async def _connection(
    info: Info[Context, None],
    fetch: Callable[[PageRequest], Awaitable[Page[R]]],
    *,
    first: int | None,
    after: str | None,
    present: Callable[[Sequence[R]], list[N]],
) -> Connection[N]:
    env = info.context.env
    size = page_size(first, default=env.default_page_size, maximum=env.max_page_size)
    window = await fetch_window(fetch, first=size, after=after, with_total=_wants_total(info))
    nodes = present(window.items)
    return Connection(
        edges=[Edge(node=node, cursor=cursor) for node, cursor in zip(nodes, window.cursors)],
        page_info=PageInfo(
            has_next_page=window.has_next,
            has_previous_page=after is not None,
            start_cursor=window.cursors[0] if window.cursors else None,
            end_cursor=window.end_cursor,
        ),
        total_count=window.total,
    )


def _traced(ctx: Context, source: str, operation: str, call: Callable[[PageRequest], Awaitable[Page[R]]]):
    async def fetch(request: PageRequest) -> Page[R]:
        with ctx.trace.measure(source, operation) as measurement:
            page = await call(request)
            measurement.items = len(page.items)
        return page

    return fetch


@strawberry.type
class Query:
    @strawberry.field(description="The caller, as the hub authenticated it.")
    def me(self, info: Info[Context, None]) -> Me:
        return Me.of(info.context.principal)

    @strawberry.field(description="One citizen by NIK.")
    async def citizen(self, info: Info[Context, None], nik: str) -> Citizen | None:
        ctx = info.context
        record = await ctx.loaders.citizen.load(checked_nik(nik))
        return Citizen.of(record, ctx) if record is not None else None

    @strawberry.field(description="Citizens of the region, ordered by NIK.")
    async def citizens(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        filter: CitizenFilter | None = None,
    ) -> Connection[Citizen]:
        ctx = info.context
        flt = (filter or CitizenFilter()).to_filter()
        population = ctx.env.sources.population

        def present(records: Sequence) -> list[Citizen]:
            ctx.loaders.prime_citizens(records)
            return [Citizen.of(record, ctx) for record in records]

        return await _connection(
            info,
            _traced(ctx, population.source_id, "list_citizens", lambda p: population.list_citizens(flt, p)),
            first=first,
            after=after,
            present=present,
        )

    @strawberry.field(description="One family card by its number (No. KK).")
    async def family(self, info: Info[Context, None], number: str) -> Family | None:
        ctx = info.context
        if len(number) != 16 or not number.isdigit():
            raise BadUserInput("`number` is a 16-digit family card number")
        members = await ctx.loaders.family_members.load(number)
        return Family.of(number, members, ctx) if members else None

    @strawberry.field(description="One permit application by its number.")
    async def application(self, info: Info[Context, None], number: str) -> Application | None:
        ctx = info.context
        record = await ctx.loaders.application.load(_checked_number(number, argument="number"))
        return Application.of(record, ctx) if record is not None else None

    @strawberry.field(description="Permit applications, newest first.")
    async def applications(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        filter: ApplicationFilter | None = None,
    ) -> Connection[Application]:
        ctx = info.context
        flt = (filter or ApplicationFilter()).to_filter()
        licensing = ctx.env.sources.licensing

        def present(records: Sequence) -> list[Application]:
            ctx.loaders.prime_applications(records)
            return [Application.of(record, ctx) for record in records]

        return await _connection(
            info,
            _traced(ctx, licensing.source_id, "list_applications",
                    lambda p: licensing.list_applications(flt, p)),
            first=first,
            after=after,
            present=present,
        )

    @strawberry.field(description="One complaint by its ticket number.")
    async def complaint(self, info: Info[Context, None], number: str) -> Complaint | None:
        ctx = info.context
        record = await ctx.loaders.complaint.load(_checked_number(number, argument="number"))
        return Complaint.of(record, ctx) if record is not None else None

    @strawberry.field(description="Complaints, newest first.")
    async def complaints(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        filter: ComplaintFilter | None = None,
    ) -> Connection[Complaint]:
        ctx = info.context
        flt = (filter or ComplaintFilter()).to_filter()
        complaints = ctx.env.sources.complaints

        def present(records: Sequence) -> list[Complaint]:
            ctx.loaders.prime_complaints(records)
            return [Complaint.of(record, ctx) for record in records]

        return await _connection(
            info,
            _traced(ctx, complaints.source_id, "list_complaints",
                    lambda p: complaints.list_complaints(flt, p)),
            first=first,
            after=after,
            present=present,
        )

    @strawberry.field(description="The state of each source system.")
    async def sources(self, info: Info[Context, None]) -> list[SourceState]:
        return await probe_all(info.context.env.sources.all())
