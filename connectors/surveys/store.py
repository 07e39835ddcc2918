"""`SurveyStore`: satisfaction-survey responses in the hub store (SQLite or PostgreSQL).

Writes are idempotent: a repeated idempotency key with the same response returns the
first receipt (`replayed=True`); with a different response it is refused. A linked
application takes one survey, enforced by a unique column (concurrent submissions for
one application store one row): the same answer again is a replay, another answer is
refused (`AlreadySurveyed`). Refused answers are counted per day, service and reason,
a repeated request once (`refuse`, `refused`). Aggregates are computed in SQL (one COUNT and nine SUMs), never
by loading the rows.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from connectors.records import Sex
from connectors.surveys.codes import (
    MAX_SCORE,
    MIN_SCORE,
    SCORE_COUNT,
    AgeGroup,
    Education,
    Occupation,
    Refusal,
)
from connectors.surveys.errors import (
    AlreadySurveyed,
    IdempotencyConflict,
    InvalidSurvey,
    SurveyStoreUnavailable,
)
from connectors.surveys.tables import SCORE_COLUMNS, refusals, surveys

JAKARTA = ZoneInfo("Asia/Jakarta")
MAX_SERVICE_LENGTH = 40
MAX_NUMBER_LENGTH = 64
MAX_KEY_LENGTH = 100
RECEIPT_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
IMPORT_BATCH = 1000


@dataclass(frozen=True, slots=True)
class SurveyResponse:
    service: str
    scores: tuple[int, ...]  # nine, in the regulation's element order
    application_number: str | None = None
    age_group: AgeGroup | None = None
    sex: Sex | None = None
    education: Education | None = None
    occupation: Occupation | None = None
    idempotency_key: str | None = None
    submitted_at: datetime | None = None  # set by the store's clock unless imported


@dataclass(frozen=True, slots=True)
class SurveyReceipt:
    receipt_number: str
    service: str
    submitted_at: datetime
    application_number: str | None
    replayed: bool = False  # the idempotency key was seen before: the first receipt


@dataclass(frozen=True, slots=True)
class ScoreTotals:
    respondents: int
    totals: tuple[int, ...]  # sum of each element's scores


def _text(value: str | None, *, name: str, limit: int) -> None:
    if value is not None and (not value or len(value) > limit or not value.isprintable()):
        raise InvalidSurvey(f"`{name}` must be 1-{limit} printable characters")


def check_response(response: SurveyResponse) -> None:
    """What the store itself insists on (the schema checks more, with better messages)."""
    _text(response.service, name="service", limit=MAX_SERVICE_LENGTH)
    _text(response.application_number, name="applicationNumber", limit=MAX_NUMBER_LENGTH)
    _text(response.idempotency_key, name="idempotencyKey", limit=MAX_KEY_LENGTH)
    if len(response.scores) != SCORE_COUNT:
        raise InvalidSurvey(f"a response has exactly {SCORE_COUNT} scores")
    for index, score in enumerate(response.scores):
        if isinstance(score, bool) or not isinstance(score, int) or not MIN_SCORE <= score <= MAX_SCORE:
            raise InvalidSurvey(f"score {index + 1} must be from {MIN_SCORE} to {MAX_SCORE}")


def _fingerprint(response: SurveyResponse) -> str:
    payload = [
        response.service,
        list(response.scores),
        response.application_number,
        *(v.value if v is not None else None
          for v in (response.age_group, response.sex, response.education, response.occupation)),
    ]
    return hashlib.sha256(json.dumps(payload, separators=(",", ":")).encode()).hexdigest()


def _receipt_number() -> str:
    return "SKM-" + "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(10))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _replayed(found: Any) -> SurveyReceipt:
    return SurveyReceipt(found.receipt, found.service, _aware(found.submitted_at),
                         found.application_number, replayed=True)


_REFUSALS = frozenset(r.value for r in Refusal)


class SurveyStore:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        local_zone: ZoneInfo = JAKARTA,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._zone = local_zone

    @contextlib.asynccontextmanager
    async def _connection(self, operation: str, *, write: bool = False) -> AsyncIterator[AsyncConnection]:
        """One connection (a transaction when writing); database failures become
        SurveyStoreUnavailable, except IntegrityError, which callers interpret."""
        try:
            async with (self._engine.begin() if write else self._engine.connect()) as conn:
                yield conn
        except IntegrityError:
            raise
        except (SQLAlchemyError, OSError) as exc:
            raise SurveyStoreUnavailable(f"the survey store failed: {type(exc).__name__}",
                                         operation=operation) from exc

    def _row(self, response: SurveyResponse) -> dict[str, object]:
        at = _aware(response.submitted_at or self._clock()).astimezone(UTC)
        row: dict[str, object] = {
            "receipt": _receipt_number(),
            "service": response.service,
            "submitted_at": at,
            "submitted_on": at.astimezone(self._zone).date(),
            "age_group": response.age_group.value if response.age_group else None,
            "sex": response.sex.value if response.sex else None,
            "education": response.education.value if response.education else None,
            "occupation": response.occupation.value if response.occupation else None,
            "application_number": response.application_number,
            "idempotency_key": response.idempotency_key,
            "fingerprint": _fingerprint(response),
        }
        row.update(zip(SCORE_COLUMNS, response.scores))
        return row

    async def submit(self, response: SurveyResponse) -> SurveyReceipt:
        """Store one response; the first receipt for a repeated key or a repeated answer
        about the same application; `AlreadySurveyed` for another answer about it."""
        check_response(response)
        earlier = await self.replay(response)
        if earlier is not None:
            return earlier
        row = self._row(response)
        try:
            async with self._connection("submit", write=True) as conn:
                await conn.execute(insert(surveys).values(**row))
        except IntegrityError as exc:
            # lost a race on the key or the application: the winner's receipt, or refused
            earlier = await self.replay(response)
            if earlier is not None:
                return earlier
            raise SurveyStoreUnavailable("the survey could not be stored", operation="submit") from exc
        return SurveyReceipt(
            receipt_number=str(row["receipt"]),
            service=response.service,
            submitted_at=row["submitted_at"],  # type: ignore[arg-type]
            application_number=response.application_number,
        )

    async def replay(self, response: SurveyResponse) -> SurveyReceipt | None:
        """The receipt already given for this response (its idempotency key, or the same
        answer about its application), None if it is new; `IdempotencyConflict` or
        `AlreadySurveyed` when the key or the application holds a different answer."""
        fingerprint = _fingerprint(response)
        if response.idempotency_key is not None:
            found = await self._stored(surveys.c.idempotency_key == response.idempotency_key)
            if found is not None:
                if found.fingerprint != fingerprint:
                    raise IdempotencyConflict(
                        "this idempotency key was already used for a different survey response"
                    )
                return _replayed(found)
        if response.application_number is not None:
            found = await self._stored(surveys.c.application_number == response.application_number)
            if found is not None:
                if found.fingerprint != fingerprint:
                    raise AlreadySurveyed(
                        f"application {response.application_number} already has its satisfaction survey"
                    )
                return _replayed(found)
        return None

    async def _stored(self, where: Any) -> Any:
        stmt = select(
            surveys.c.receipt, surveys.c.service, surveys.c.submitted_at,
            surveys.c.application_number, surveys.c.fingerprint,
        ).where(where)
        async with self._connection("submit") as conn:
            return (await conn.execute(stmt)).first()

    async def refuse(self, response: SurveyResponse, reason: Refusal) -> None:
        """Count one refused answer on today's local day; the same request again (its
        idempotency key, or the same answer about the same application) counts once."""
        day = _aware(self._clock()).astimezone(self._zone).date()
        if response.idempotency_key is not None:
            request = hashlib.sha256(f"key:{response.idempotency_key}".encode()).hexdigest()
        elif response.application_number is not None:
            request = hashlib.sha256(f"answer:{_fingerprint(response)}".encode()).hexdigest()
        else:
            request = secrets.token_hex(32)
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(refusals).values(request=request, submitted_on=day, service=response.service,
                                               reason=reason.value)
        async with self._connection("refuse", write=True) as conn:
            await conn.execute(stmt.on_conflict_do_nothing(index_elements=[refusals.c.request]))

    async def refused(self, *, service: str | None, first_day: date, last_day: date) -> dict[Refusal, int]:
        """Refused answers per reason for a service (None: all) and period (local days,
        both inclusive); reasons without refusals are absent."""
        stmt = (
            select(refusals.c.reason, func.count())
            .where(refusals.c.submitted_on >= first_day, refusals.c.submitted_on <= last_day)
            .group_by(refusals.c.reason)
        )
        if service is not None:
            stmt = stmt.where(refusals.c.service == service)
        async with self._connection("refused") as conn:
            rows = (await conn.execute(stmt)).all()
        return {Refusal(reason): int(count) for reason, count in rows if reason in _REFUSALS}

    async def has_survey_for(self, application_number: str) -> bool:
        stmt = select(surveys.c.id).where(surveys.c.application_number == application_number)
        async with self._connection("has_survey_for") as conn:
            return (await conn.execute(stmt)).first() is not None

    async def totals(self, *, service: str | None, first_day: date, last_day: date) -> ScoreTotals:
        """Respondents and per-element score sums for a service (None: all) and period
        (local days, both inclusive)."""
        stmt = select(
            func.count(), *(func.coalesce(func.sum(surveys.c[name]), 0) for name in SCORE_COLUMNS)
        ).where(surveys.c.submitted_on >= first_day, surveys.c.submitted_on <= last_day)
        if service is not None:
            stmt = stmt.where(surveys.c.service == service)
        async with self._connection("totals") as conn:
            row = (await conn.execute(stmt)).one()
        return ScoreTotals(int(row[0]), tuple(int(v) for v in row[1:]))

    async def totals_by_service(self, *, first_day: date, last_day: date) -> dict[str, ScoreTotals]:
        """`totals` for every service with responses in the period, in one GROUP BY query."""
        stmt = (
            select(surveys.c.service, func.count(), *(func.sum(surveys.c[name]) for name in SCORE_COLUMNS))
            .where(surveys.c.submitted_on >= first_day, surveys.c.submitted_on <= last_day)
            .group_by(surveys.c.service)
            .order_by(surveys.c.service)
        )
        async with self._connection("totals_by_service") as conn:
            rows = (await conn.execute(stmt)).all()
        return {row[0]: ScoreTotals(int(row[1]), tuple(int(v) for v in row[2:])) for row in rows}

    async def latest_day(self) -> date | None:
        """The local day of the newest response, or None when the store is empty."""
        async with self._connection("latest_day") as conn:
            return (await conn.execute(select(func.max(surveys.c.submitted_on)))).scalar()

    async def count(self) -> int:
        async with self._connection("count") as conn:
            return int((await conn.execute(select(func.count()).select_from(surveys))).scalar_one())

    async def import_responses(self, responses: Iterable[SurveyResponse]) -> int:
        """Bulk-load trusted responses (seed data) in batches; returns how many."""
        loaded = 0
        batch: list[dict[str, object]] = []
        async with self._connection("import", write=True) as conn:
            for response in responses:
                check_response(response)
                batch.append(self._row(response))
                if len(batch) >= IMPORT_BATCH:
                    await conn.execute(insert(surveys), batch)
                    loaded += len(batch)
                    batch = []
            if batch:
                await conn.execute(insert(surveys), batch)
                loaded += len(batch)
        return loaded
