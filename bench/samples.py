"""Keys the operations use, sampled from the sources up front (through the connectors),
and the tokens the callers present (from the hub's development issuer)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from bench.direct import DirectSources
from bench.options import BenchError
from connectors.records import (
    ApplicationFilter,
    CitizenFilter,
    ComplaintFilter,
    Page,
    PageRequest,
)
from hub.identity import cursor_key, development_issuer
from hub.settings import Settings
from schema.cursors import CursorCodec, HubCursor, binding

SAMPLE_NIKS = 120
SAMPLE_NUMBERS = 200
CURSORS = 12  # starting points per listing
TOKEN_TTL = 6 * 3600


@dataclass(frozen=True, slots=True)
class Samples:
    citizen_niks: tuple[str, ...]  # residents, many of them applicants or reporters
    application_numbers: tuple[str, ...]
    kelurahan_codes: tuple[str, ...]
    citizen_cursors: tuple[str | None, ...]  # source cursors into all citizens
    kelurahan_cursors: dict[str, tuple[str | None, ...]]  # per kelurahan
    application_cursors: tuple[str | None, ...]
    period: tuple[date, date]  # the dashboard's period: the last 365 days


async def _cursors(fetch, rng: random.Random, *, steps: int, largest: int) -> tuple[str | None, ...]:  # type: ignore[no-untyped-def]
    """Starting points spread over the first pages: None, then the end of pages of
    random sizes walked one after the other."""
    cursors: list[str | None] = [None]
    after: str | None = None
    for _ in range(steps - 1):
        page: Page = await fetch(PageRequest(first=rng.randint(1, largest), after=after))
        if not page.has_next or page.end_cursor is None:
            break
        after = page.end_cursor
        cursors.append(after)
    return tuple(cursors)


async def sample_keys(sources: DirectSources, *, seed: int) -> Samples:
    rng = random.Random(seed)
    pop, lic, com = sources.population, sources.licensing, sources.complaints
    residents = await pop.list_citizens(CitizenFilter(), PageRequest(first=1000))
    applications = await lic.list_applications(ApplicationFilter(), PageRequest(first=1000))
    complaints = await com.list_complaints(ComplaintFilter(), PageRequest(first=1000))
    if not residents.items or not applications.items:
        raise BenchError("NO_SAMPLE_DATA", "the sources hold no residents or no applications")
    kelurahan = sorted({r.kelurahan_code for r in residents.items})
    applicants = [a.applicant_nik for a in applications.items if a.applicant_nik]
    reporters = [c.reporter_nik for c in complaints.items if c.reporter_nik]
    others = [r.nik for r in residents.items]
    candidates = _pick(rng, applicants, SAMPLE_NIKS // 2) + _pick(rng, reporters, SAMPLE_NIKS // 4)
    candidates += _pick(rng, others, SAMPLE_NIKS - len(candidates))
    found = await pop.citizens_by_nik(sorted(set(candidates)))
    niks = tuple(sorted(found))
    return Samples(
        citizen_niks=niks,
        application_numbers=tuple(_pick(rng, [a.number for a in applications.items], SAMPLE_NUMBERS)),
        kelurahan_codes=tuple(kelurahan),
        citizen_cursors=await _cursors(
            lambda p: pop.list_citizens(CitizenFilter(), p), rng, steps=CURSORS, largest=1000
        ),
        kelurahan_cursors={
            code: await _cursors(
                lambda p, code=code: pop.list_citizens(CitizenFilter(kelurahan_codes=(code,)), p),
                rng, steps=4, largest=500,
            )
            for code in kelurahan
        },
        application_cursors=await _cursors(
            lambda p: lic.list_applications(ApplicationFilter(), p), rng, steps=CURSORS, largest=300
        ),
        period=(date.today() - timedelta(days=364), date.today()),
    )


def _pick(rng: random.Random, values: Sequence[str], count: int) -> list[str]:
    distinct = sorted(set(values))
    return rng.sample(distinct, min(count, len(distinct)))


@dataclass
class Tokens:
    """Tokens minted once per caller (role and claims) and reused."""

    settings: Settings
    _cache: dict[tuple, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._issuer = development_issuer(self.settings)
        self._codec = CursorCodec(cursor_key(self.settings, self._issuer))

    def cursor(self, root_field: str, flt: object, source_cursor: str | None, role: str) -> str | None:
        """The hub's cursor for a position the bench sampled from a source: sealed and
        bound as the hub seals them for `role`'s token (`flt`: the connector filter the
        hub builds for that listing and role, after its row scope)."""
        if source_cursor is None:
            return None
        bound = binding(root_field, flt, (role,), _subject(role))
        return self._codec.seal(HubCursor(source_cursor, 0), bound)

    def of(self, role: str, **claims: str) -> str:
        key = (role, *sorted(claims.items()))
        token = self._cache.get(key)
        if token is None:
            token = self._cache[key] = self._issuer.issue(
                subject=_subject(role),
                roles=[role],
                ttl_seconds=TOKEN_TTL,
                department="bench",
                **claims,
            )
        return token


def _subject(role: str) -> str:
    return f"bench-{role.replace('_', '-')}"
