"""`submitSatisfactionSurvey` and `satisfactionIndex` (PermenPANRB 14/2017).

Anyone may answer the survey (anonymous callers included) and read the index. A
response linked to an application must name a finished application of that permit
type; the store keeps one survey per application (the same answer again is a replay,
another answer is refused with `ALREADY_SURVEYED`). Answers without an application are
limited per caller (address, or subject when signed in) and local day. Refused answers
are counted and published with the index (`refused`, `refusals`)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

import strawberry
from strawberry.types import Info

from connectors.records import APPLICATION_FINISHED, PermitType
from connectors.surveys import (
    AgeGroup,
    AlreadySurveyed,
    Education,
    Occupation,
    Refusal,
    SurveyError,
    SurveyResponse,
)
from connectors.surveys import SurveyReceipt as ReceiptRecord
from schema.analytics.ikm import (
    ELEMENTS,
    IkmResult,
    InvalidScores,
    checked_scores,
    displayed,
)
from schema.analytics.period import DayRange, Period, PeriodInput, checked_period
from schema.analytics.surveys import Surveys, SurveyService, satisfaction_summary
from schema.context import Context
from schema.errors import BadUserInput, ServiceUnavailable
from schema.quota import ANONYMOUS_SURVEY, SUBMIT_SURVEY, RateLimited, spend
from schema.types.common import Sex

log = logging.getLogger("simpul.surveys")

MAX_TEXT = 64
MAX_KEY = 100

SurveyAgeGroup = strawberry.enum(AgeGroup, name="SurveyAgeGroup")
SurveyEducation = strawberry.enum(Education, name="SurveyEducation")
SurveyOccupation = strawberry.enum(Occupation, name="SurveyOccupation")
SurveyRefusalReason = strawberry.enum(Refusal, name="SurveyRefusalReason", description=(
    "Why an answer was not counted: ALREADY_SURVEYED (the application already has its "
    "answer), DAILY_LIMIT (answers without an application: the caller's day is used up), "
    "NOT_ELIGIBLE (no such application, not finished, or another service)."))


@strawberry.input(description="One answer to the satisfaction survey (SKM). No names.")
class SatisfactionSurveyInput:
    service: str = strawberry.field(description="A permit type code, or another service's code.")
    scores: list[int] = strawberry.field(
        description="Nine scores 1-4, in the regulation's element order (U1 Persyaratan ... "
        "U9 Sarana dan prasarana)."
    )
    application_number: str | None = strawberry.field(
        default=None, description="A finished application this answer is about (one survey each)."
    )
    age_group: SurveyAgeGroup | None = None  # type: ignore[valid-type]
    sex: Sex | None = None  # type: ignore[valid-type]
    education: SurveyEducation | None = None  # type: ignore[valid-type]
    occupation: SurveyOccupation | None = None  # type: ignore[valid-type]
    idempotency_key: str | None = strawberry.field(
        default=None, description="Repeat a submission safely: the same key returns the first receipt."
    )


@strawberry.type(description="Proof that a survey answer was stored.")
class SurveyReceipt:
    receipt_number: str
    service: str
    submitted_at: datetime
    application_number: str | None
    replayed: bool = strawberry.field(
        description="True when this idempotency key was seen before: the first submission's receipt."
    )

    @classmethod
    def of(cls, receipt: ReceiptRecord) -> SurveyReceipt:
        return cls(
            receipt_number=receipt.receipt_number,
            service=receipt.service,
            submitted_at=receipt.submitted_at,
            application_number=receipt.application_number,
            replayed=receipt.replayed,
        )


@strawberry.type(description="One of the nine elements (unsur) of the index.")
class SatisfactionElement:
    code: str
    name: str
    name_en: str
    nrr: float | None = strawberry.field(description="Mean score 1-4 (nilai rata-rata), unrounded.")
    weighted_nrr: float | None = strawberry.field(description="NRR x 1/9, unrounded.")
    converted_value: float | None = strawberry.field(description="NRR x 25, rounded to 2 decimals.")
    grade: str | None = strawberry.field(description="Service quality (mutu pelayanan) A-D.")
    label: str | None = strawberry.field(description="Performance in Indonesian, e.g. Baik.")
    label_en: str | None


@strawberry.type(description="Refused answers of one reason.")
class SurveyRefusals:
    reason: SurveyRefusalReason  # type: ignore[valid-type]
    answers: int


@strawberry.type(description="The community satisfaction index (IKM, PermenPANRB 14/2017).")
class SatisfactionIndex:
    service: str | None = strawberry.field(description="The service code; null for all services.")
    service_name: str | None
    period: Period
    respondents: int = strawberry.field(description="The answers counted in the index.")
    refused: int = strawberry.field(description="The answers refused in the period (not counted).")
    refusals: list[SurveyRefusals] = strawberry.field(description="`refused` by reason.")
    index: float | None = strawberry.field(
        description="sum(NRR x 1/9) x 25, computed exactly and rounded half-up to 2 decimals; "
        "the grade is judged on this value. Null without respondents."
    )
    index_exact: float | None = strawberry.field(description="The index before rounding.")
    grade: str | None = strawberry.field(description="A (88.31-100), B (76.61-88.30), "
                                         "C (65.00-76.60) or D (25.00-64.99).")
    grade_label: str | None = strawberry.field(description="Sangat Baik, Baik, Kurang Baik, Tidak Baik.")
    grade_label_en: str | None
    elements: list[SatisfactionElement]

    @classmethod
    def of(cls, result: IkmResult | None, *, service: SurveyService | None, days: DayRange,
           refused: dict[Refusal, int]) -> SatisfactionIndex:
        if result is None:
            elements = [SatisfactionElement(code=e.code, name=e.name, name_en=e.name_en, nrr=None,
                                            weighted_nrr=None, converted_value=None, grade=None,
                                            label=None, label_en=None) for e in ELEMENTS]
        else:
            elements = [
                SatisfactionElement(
                    code=e.element.code,
                    name=e.element.name,
                    name_en=e.element.name_en,
                    nrr=float(e.nrr),
                    weighted_nrr=float(e.weighted),
                    converted_value=float(displayed(e.converted)),
                    grade=e.grade.letter,
                    label=e.grade.label,
                    label_en=e.grade.label_en,
                )
                for e in result.elements
            ]
        return cls(
            service=service.code if service else None,
            service_name=service.name if service else None,
            period=Period.of(days),
            respondents=result.respondents if result else 0,
            refused=sum(refused.values()),
            refusals=[SurveyRefusals(reason=reason, answers=refused[reason]) for reason in Refusal if reason in refused],
            index=float(result.index_displayed) if result else None,
            index_exact=float(result.index) if result else None,
            grade=result.grade.letter if result else None,
            grade_label=result.grade.label if result else None,
            grade_label_en=result.grade.label_en if result else None,
            elements=elements,
        )


def _surveys(ctx: Context) -> Surveys:
    surveys = ctx.env.surveys
    if surveys is None:
        raise ServiceUnavailable("surveys", "the satisfaction survey is not configured on this hub")
    return surveys


def _permit_types(ctx: Context):  # type: ignore[no-untyped-def]
    licensing = ctx.env.sources.licensing

    async def fetch() -> list[PermitType]:
        with ctx.trace.measure(licensing.source_id, "permit_types") as measurement:
            types = await licensing.permit_types()
            measurement.items = len(types)
        return types

    return fetch


def _text(value: str | None, *, argument: str, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > limit or not value.isprintable():
        raise BadUserInput(f"`{argument}` must be 1-{limit} printable characters",
                           details={"argument": argument})
    return value


async def _known_service(ctx: Context, surveys: Surveys, code: str, *, argument: str) -> SurveyService:
    checked = _text(code, argument=argument, limit=MAX_TEXT)
    service = await surveys.service(checked or "", _permit_types(ctx))
    if service is None:
        raise BadUserInput(f"`{argument}`: unknown service {code[:MAX_TEXT]!r}; use a permit type "
                           "code or another listed service", details={"argument": argument})
    return service


async def _eligible_number(ctx: Context, number: str, service: SurveyService) -> str:
    """The application's own number (the store's uniqueness is on it, whatever spelling
    the source accepted), or BadUserInput when it cannot be surveyed."""
    record = await ctx.loaders.application.load(number)
    if record is None:
        raise BadUserInput("`input.applicationNumber`: no application with this number",
                           details={"argument": "input.applicationNumber", "reason": Refusal.NOT_ELIGIBLE.value})
    if record.status not in APPLICATION_FINISHED:
        raise BadUserInput("`input.applicationNumber`: the application is not finished yet; "
                           "the survey opens when it is",
                           details={"argument": "input.applicationNumber", "reason": Refusal.NOT_ELIGIBLE.value})
    if record.permit_type.code != service.code:
        raise BadUserInput(f"`input.service`: the application is for {record.permit_type.code}, "
                           f"not {service.code}",
                           details={"argument": "input.service", "reason": Refusal.NOT_ELIGIBLE.value})
    return record.number


async def _refused(surveys: Surveys, response: SurveyResponse, reason: Refusal, error: Exception) -> Exception:
    """`error`, once the refusal is counted (a store failure here does not hide it)."""
    try:
        await surveys.store.refuse(response, reason)
    except Exception:  # noqa: BLE001 - e.g. SurveyStoreUnavailable: the refusal stands
        log.warning("a refused survey answer could not be counted", exc_info=True)
    return error


@strawberry.type
class SatisfactionQuery:
    @strawberry.field(description="The satisfaction index of a service (null: all services) "
                      "over a period (default: the last 365 days).")
    async def satisfaction_index(
        self, info: Info[Context, None], service: str | None = None, period: PeriodInput | None = None
    ) -> SatisfactionIndex:
        ctx = info.context
        surveys = _surveys(ctx)
        days = checked_period(period, today=ctx.env.today())
        known = await _known_service(ctx, surveys, service, argument="service") if service is not None else None
        code = known.code if known else None
        result = await satisfaction_summary(surveys, service=code, period_from=days.first, period_to=days.last)
        refused = await surveys.store.refused(service=code, first_day=days.first, last_day=days.last)
        return SatisfactionIndex.of(result, service=known, days=days, refused=refused)


@strawberry.type
class SatisfactionMutation:
    @strawberry.mutation(description="Answer the satisfaction survey (anonymous allowed).")
    async def submit_satisfaction_survey(
        self, info: Info[Context, None], input: SatisfactionSurveyInput
    ) -> SurveyReceipt:
        ctx = info.context
        surveys = _surveys(ctx)
        await spend(ctx, SUBMIT_SURVEY, what="survey answers")
        try:
            scores = checked_scores(input.scores)
        except InvalidScores as exc:
            extra: dict[str, object] = {"argument": "input.scores"}
            if exc.index is not None:
                extra["index"] = exc.index
                extra["element"] = ELEMENTS[exc.index].code
            raise BadUserInput(str(exc), details=extra) from exc
        service = await _known_service(ctx, surveys, input.service, argument="input.service")
        number = _text(input.application_number, argument="input.applicationNumber", limit=MAX_TEXT)
        key = _text(input.idempotency_key, argument="input.idempotencyKey", limit=MAX_KEY)
        response = SurveyResponse(
            service=service.code,
            scores=scores,
            application_number=number,
            age_group=AgeGroup(input.age_group.value) if input.age_group else None,
            sex=input.sex,
            education=Education(input.education.value) if input.education else None,
            occupation=Occupation(input.occupation.value) if input.occupation else None,
            idempotency_key=key,
        )
        if number is not None:
            try:
                response = replace(response, application_number=await _eligible_number(ctx, number, service))
            except BadUserInput as exc:
                raise await _refused(surveys, response, Refusal.NOT_ELIGIBLE, exc) from None
        try:
            receipt = await surveys.store.replay(response)
            if receipt is None:
                if number is None:  # a replay above costs nothing of the day's allowance
                    await _anonymous_allowance(ctx, surveys, response)
                receipt = await surveys.store.submit(response)
        except AlreadySurveyed as exc:
            error = BadUserInput(exc.message, details={**exc.details, "argument": "input.applicationNumber"})
            raise await _refused(surveys, response, Refusal.ALREADY_SURVEYED, error) from exc
        except SurveyError as exc:
            raise BadUserInput(exc.message, details=exc.details) from exc
        return SurveyReceipt.of(receipt)


async def _anonymous_allowance(ctx: Context, surveys: Surveys, response: SurveyResponse) -> None:
    try:
        await spend(ctx, ANONYMOUS_SURVEY, what="survey answers without an application number today")
    except RateLimited as exc:
        exc.details["reason"] = Refusal.DAILY_LIMIT.value
        raise await _refused(surveys, response, Refusal.DAILY_LIMIT, exc) from None
