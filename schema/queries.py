"""The root query: one entry point per record kind, lists as Relay connections.

What a role may not read, these fields do not reveal by other means:

- a listing runs only when the role's row scope is exact (`RowScope.exact`: pushed
  down, it admits exactly the rows the policy allows), so its `totalCount` and
  `hasNextPage` are the source's and count no row the caller could not read; a role
  whose rules the source cannot apply is refused the listing (FORBIDDEN), never given
  a count or a page shape that reveals withheld rows;
- a filter on personal data is a search (`schema.search`: purpose, `search` entry);
- cursors are sealed and bound to the listing (`schema.cursors`);
- looking a record up by its key answers an unknown key as it answers a record the
  caller may not read (null, FORBIDDEN, the same message) unless the caller may read
  every row of that kind, so no one learns which NIKs or numbers exist.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

import strawberry
from aiodataloader import DataLoader
from strawberry.types import Info

from auth.policy import RowScope
from connectors.protocols import Source
from connectors.records import ComplaintVisibility, Page, PageRequest
from schema.cases import refuse_listing, require_in_case
from schema.context import Context
from schema.cursors import binding
from schema.errors import BadUserInput, Forbidden
from schema.inputs import ApplicationFilter, CitizenFilter, ComplaintFilter, checked_nik, checked_number
from schema.pagination import Cursors, fetch_window, page_size
from schema.search import note_search
from schema.types.application import Application
from schema.types.citizen import Citizen, Family
from schema.types.common import Connection, Edge, PageInfo
from schema.types.complaint import Complaint
from schema.types.system import Me, SourceState, probe_all

R = TypeVar("R")
N = TypeVar("N")
FilterInput = TypeVar("FilterInput", CitizenFilter, ApplicationFilter, ComplaintFilter)

log = logging.getLogger("simpul.policy")


def _wants_total(info: Info) -> bool:
    return any(
        getattr(selection, "name", None) == "totalCount"
        for field in info.selected_fields
        for selection in field.selections
    )


def _cursors(ctx: Context, root_field: str, flt: object) -> Cursors:
    principal = ctx.principal
    return Cursors(ctx.env.cursors, binding(root_field, flt, principal.roles, principal.subject),
                   max_offset=ctx.env.max_page_size)


def _pushed(scope: RowScope, *attributes: str) -> RowScope:
    """The scope, marked inexact when it restricts an attribute the listing cannot
    push down to its source."""
    return scope if set(scope.filters()) <= set(attributes) else scope.widened()


async def _connection(
    info: Info[Context, None],
    fetch: Callable[[PageRequest], Awaitable[Page[R]]],
    *,
    first: int | None,
    after: str | None,
    present: Callable[[R], N | None],
    scope: RowScope,
    cursors: Cursors,
    what: str,
) -> Connection[N]:
    env = info.context.env
    size = page_size(first, default=env.default_page_size, maximum=env.max_page_size)
    if not scope.exact:
        raise Forbidden(
            f"{what} cannot be listed for this role: the source cannot apply its row rules, so a page "
            "or a count would include rows it may not read; look records up one by one"
        )
    if scope.empty:
        if after:
            cursors.open(after)  # a bad cursor is refused even where nothing is listed
        return Connection(edges=[], page_info=PageInfo(has_next_page=False, has_previous_page=False,
                          start_cursor=None, end_cursor=None), total_count=0)
    window = await fetch_window(fetch, first=size, after=after, with_total=_wants_total(info), cursors=cursors)
    edges: list[Edge[N]] = []
    for index, item in enumerate(window.items):
        node = present(item)  # the scope was pushed down exactly: every row is still checked
        if node is None:
            log.error("a row inside the exact scope of a listing of %s was refused: policy and scope disagree", what)
            raise Forbidden(f"{what} could not be listed: a row was refused that the row rules admitted")
        edges.append(Edge(node=node, window=window, index=index))
    info.context.start_ledger_write()
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=window.has_next,
            has_previous_page=after is not None,
            start_cursor=window.cursor(0) if window.items else None,
            end_cursor=window.end_cursor,
        ),
        total_count=window.total,
    )


def _refusal(what: str) -> Forbidden:
    return Forbidden(f"this {what} is not yours to see")


def _shown(ctx: Context, node: N | None, what: str) -> N:
    """A root record the policy refuses is null with FORBIDDEN at its path; a shown one
    may start its ledger entry now (see `schema.ledger_writes`)."""
    if node is None:
        raise _refusal(what)
    ctx.start_ledger_write()
    return node


def _unknown(ctx: Context, type_name: str, what: str) -> None:
    """An unknown key: null for a caller who may read every row of the type; for anyone
    else the very answer a row it may not read gets, so that the answer does not tell
    a key that exists from one that does not."""
    scope = ctx.presenter.scope(type_name)
    if scope.is_all and scope.exact:
        return None
    raise _refusal(what)


def _narrow(requested: tuple[str, ...] | None, allowed: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The values both the caller asked for and the policy's row scope admit."""
    if allowed is None:
        return requested
    if requested is None:
        return allowed
    return tuple(v for v in requested if v in allowed)


def _narrow_visibility(
    requested: tuple[ComplaintVisibility, ...] | None, allowed: tuple[str, ...] | None
) -> tuple[ComplaintVisibility, ...] | None:
    """As `_narrow`, for the scope's visibility codes against the filter's enum values."""
    if allowed is None:
        return requested
    permitted = tuple(ComplaintVisibility(v) for v in allowed)
    return permitted if requested is None else tuple(v for v in requested if v in permitted)


def _emptied(scope: RowScope, *narrowed: tuple | None) -> RowScope:
    """The scope, or an empty one when narrowing left a filter with no value at all."""
    return RowScope.none() if any(n is not None and not n for n in narrowed) else scope


def _traced(ctx: Context, source: str, operation: str, call: Callable[[PageRequest], Awaitable[Page[R]]]):
    async def fetch(request: PageRequest) -> Page[R]:
        with ctx.trace.measure(source, operation) as measurement:
            page = await call(request)
            measurement.fetched(page.items)  # items: those the caller is shown (schema.trace)
        return page

    return fetch


def _citizens_narrowed(flt: Any, scope: RowScope) -> dict[str, tuple | None]:
    return {"kelurahan_codes": _narrow(flt.kelurahan_codes, scope.kelurahan_codes)}


def _applications_narrowed(flt: Any, scope: RowScope) -> dict[str, tuple | None]:
    return {
        "kelurahan_codes": _narrow(flt.kelurahan_codes, scope.kelurahan_codes),
        "applicant_niks": _narrow(flt.applicant_niks, scope.applicant_niks),
    }


def _complaints_narrowed(flt: Any, scope: RowScope) -> dict[str, tuple | None]:
    return {
        "kelurahan_codes": _narrow(flt.kelurahan_codes, scope.kelurahan_codes),
        "reporter_niks": _narrow(flt.reporter_niks, scope.reporter_niks),
        "visibilities": _narrow_visibility(flt.visibilities, scope.visibilities),
    }


async def _root_listing(
    info: Info[Context, None],
    what: str,
    type_name: str,
    given: FilterInput | None,
    input_type: type[FilterInput],
    narrow: Callable[[Any, RowScope], dict[str, tuple | None]],
    *,
    source: Source,
    list_page: Callable[[Any, PageRequest], Awaitable[Page[R]]],
    prime: Callable[[Sequence[R]], None],
    first: int | None,
    after: str | None,
    present: Callable[[R], N | None],
) -> Connection[N]:
    """The root listing `what` of `type_name` records (operation `list_<what>` of
    `source`): the `given` filter, a search where it names personal data, narrowed to the
    role's row scope (`narrow`: attribute → the values both admit), which the source
    applies exactly; the page primes the loaders."""
    ctx = info.context
    refuse_listing(ctx, what)
    scope = ctx.presenter.scope(type_name)
    flt = (given or input_type()).to_filter()
    note_search(ctx, input_type.__name__, given)
    narrowed = narrow(flt, scope)
    flt = replace(flt, **narrowed)

    async def fetch(request: PageRequest) -> Page[R]:
        page = await list_page(flt, request)
        prime(page.items)
        return page

    return await _connection(
        info,
        _traced(ctx, source.source_id, f"list_{what}", fetch),
        first=first,
        after=after,
        present=present,
        scope=_emptied(_pushed(scope, *narrowed), *narrowed.values()),
        cursors=_cursors(ctx, what, flt),
        what=what,
    )


async def _root_record(
    ctx: Context, type_name: str, what: str, key: str, loader: DataLoader,
    present: Callable[[R], N | None],
) -> N | None:
    """One record by its key, answered as the module's docstring says."""
    require_in_case(ctx, type_name, key, what)
    record = await loader.load(key)
    if record is None:
        return _unknown(ctx, type_name, what)
    return _shown(ctx, present(record), what)


async def family_by_number(ctx: Context, number: str) -> Family | None:
    if len(number) != 16 or not number.isdigit():
        raise BadUserInput("`number` is a 16-digit family card number")
    require_in_case(ctx, "Family", number, "family card")
    members = await ctx.loaders.family_members.load(number)
    if not members:
        return _unknown(ctx, "Family", "family")
    return _shown(ctx, Family.of(number, members, ctx), "family")


async def record_by_key(ctx: Context, type_name: str, key: str) -> Citizen | Family | Application | Complaint | None:
    """One record by its key, exactly as the root field of its type answers it (also
    the federation's `_entities`: schema.federation)."""
    if type_name == "Citizen":
        return await _root_record(ctx, "Citizen", "citizen", checked_nik(key), ctx.loaders.citizen,
                                  lambda record: Citizen.of(record, ctx))
    if type_name == "Family":
        return await family_by_number(ctx, key)
    if type_name == "Application":
        return await _root_record(ctx, "Application", "application", checked_number(key), ctx.loaders.application,
                                  lambda record: Application.of(record, ctx))
    if type_name == "Complaint":
        return await _root_record(ctx, "Complaint", "complaint", checked_number(key), ctx.loaders.complaint,
                                  lambda record: Complaint.of(record, ctx))
    raise BadUserInput(f"no record kind {type_name!r} is looked up by key")


@strawberry.type
class CoreQuery:
    @strawberry.field(description="The caller, as the hub authenticated it.")
    def me(self, info: Info[Context, None]) -> Me:
        return Me.of(info.context.principal)

    @strawberry.field(description="One citizen by NIK.")
    async def citizen(self, info: Info[Context, None], nik: str) -> Citizen | None:
        return await record_by_key(info.context, "Citizen", nik)  # type: ignore[return-value]

    @strawberry.field(description="Citizens of the region, ordered by NIK.")
    async def citizens(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None,
        filter: CitizenFilter | None = None,
    ) -> Connection[Citizen] | None:
        ctx = info.context
        population = ctx.env.sources.population
        return await _root_listing(
            info, "citizens", "Citizen", filter, CitizenFilter, _citizens_narrowed,
            source=population, list_page=population.list_citizens, prime=ctx.loaders.prime_citizens,
            first=first, after=after, present=lambda record: Citizen.of(record, ctx),
        )

    @strawberry.field(description="One family card by its number (No. KK).")
    async def family(self, info: Info[Context, None], number: str) -> Family | None:
        return await family_by_number(info.context, number)

    @strawberry.field(description="One permit application by its number.")
    async def application(self, info: Info[Context, None], number: str) -> Application | None:
        return await record_by_key(info.context, "Application", number)  # type: ignore[return-value]

    @strawberry.field(description="Permit applications, newest first.")
    async def applications(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None,
        filter: ApplicationFilter | None = None,
    ) -> Connection[Application] | None:
        ctx = info.context
        licensing = ctx.env.sources.licensing
        return await _root_listing(
            info, "applications", "Application", filter, ApplicationFilter, _applications_narrowed,
            source=licensing, list_page=licensing.list_applications, prime=ctx.loaders.prime_applications,
            first=first, after=after, present=lambda record: Application.of(record, ctx),
        )

    @strawberry.field(description="One complaint by its ticket number.")
    async def complaint(self, info: Info[Context, None], number: str) -> Complaint | None:
        return await record_by_key(info.context, "Complaint", number)  # type: ignore[return-value]

    @strawberry.field(description="Complaints, newest first.")
    async def complaints(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None,
        filter: ComplaintFilter | None = None,
    ) -> Connection[Complaint] | None:
        ctx = info.context
        complaints = ctx.env.sources.complaints
        return await _root_listing(
            info, "complaints", "Complaint", filter, ComplaintFilter, _complaints_narrowed,
            source=complaints, list_page=complaints.list_complaints, prime=ctx.loaders.prime_complaints,
            first=first, after=after, present=lambda record: Complaint.of(record, ctx),
        )

    @strawberry.field(description="The state of each source system.")
    async def sources(self, info: Info[Context, None]) -> list[SourceState]:
        return await probe_all(info.context.env.sources.all())
