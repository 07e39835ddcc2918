"""Sample answers to the satisfaction survey (SKM, PermenPANRB 14/2017) as JSON lines.

    {"service": "PBG", "scores": [4, 3, ...nine], "application_number": "503/...",
     "submitted_at": "2025-03-04T10:12:00+07:00", "age_group": "FROM_30_TO_39",
     "sex": "FEMALE", "education": "BACHELOR", "occupation": "ENTREPRENEUR"}

As many applicants answer as PermenPANRB 14/2017's sample table asks for the year's
service users (demo.generator.volumes), after their permit is issued or handed over (one
answer per application, a few days later); complaint handling (`PENGADUAN`) gets as
many unlinked answers as its own users call for, spread over the period. Scores are plausible for a kecamatan office:
mostly 3, free services score high on cost (U4), completion time (U3) and complaint
handling (U8) lower, and a slow permit type lower on completion time still. The hub
imports the file into its own store when `hub demo` starts with an empty survey store;
the demo writes it and knows nothing of the hub.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from demo.generator.calendar import WIB
from demo.generator.codes import Weighted

SURVEYS_FILE = "surveys.jsonl"
COMPLAINT_SERVICE = "PENGADUAN"

# mean score per element U1..U9 for an average service
ELEMENT_MEANS = (3.25, 3.15, 2.95, 3.7, 3.25, 3.2, 3.35, 2.9, 3.05)
# services that run slow or fast shift completion time (U3)
COMPLETION_SHIFT = {"PBG": -0.35, "KKPR": -0.3, "IUTM": -0.25, "SLF": -0.15, "IUMK": 0.25,
                    "SKTU": 0.2}
COMPLAINT_SHIFT = (-0.2, -0.1, -0.25, 0.0, -0.15, 0.0, -0.05, -0.35, -0.1)

AGE_GROUP = Weighted([("UNDER_20", 3), ("FROM_20_TO_29", 22), ("FROM_30_TO_39", 31),
                      ("FROM_40_TO_49", 24), ("FROM_50_TO_59", 14), ("FROM_60", 6)])
SEX = Weighted([("MALE", 56), ("FEMALE", 44)])
EDUCATION = Weighted([("PRIMARY_OR_LESS", 5), ("JUNIOR_SECONDARY", 9), ("SENIOR_SECONDARY", 41),
                      ("DIPLOMA", 12), ("BACHELOR", 29), ("POSTGRADUATE", 4)])
OCCUPATION = Weighted([("CIVIL_SERVANT", 9), ("PRIVATE_EMPLOYEE", 31), ("ENTREPRENEUR", 38),
                       ("STUDENT", 5), ("OTHER", 17)])


def _score(rng: random.Random, mean: float) -> int:
    return max(1, min(4, round(rng.gauss(mean, 0.55))))


def _scores(rng: random.Random, service: str, mood: float) -> list[int]:
    means = list(ELEMENT_MEANS)
    if service == COMPLAINT_SERVICE:
        means = [m + s for m, s in zip(means, COMPLAINT_SHIFT)]
    else:
        means[2] += COMPLETION_SHIFT.get(service, 0.0)
    return [_score(rng, m + mood) for m in means]


def _answer(rng: random.Random, service: str, at: datetime, number: str | None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "service": service,
        "scores": _scores(rng, service, rng.gauss(0, 0.25)),
        "application_number": number,
        "submitted_at": at.isoformat(),
    }
    for name, table in (("age_group", AGE_GROUP), ("sex", SEX), ("education", EDUCATION),
                        ("occupation", OCCUPATION)):
        row[name] = table.draw(rng) if rng.random() < 0.9 else None  # some skip the question
    return row


def _office_time(rng: random.Random, day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 8, 0, tzinfo=WIB) + timedelta(
        minutes=rng.randrange(0, 8 * 60))


def generate_surveys(
    *,
    finished: Iterable[tuple[str, str, datetime]],
    seed: int,
    today: date,
    application_share: float,
    complaint_answers: int,
    years: int = 2,
) -> Iterator[dict[str, Any]]:
    """Answers for a share of the finished applications (number, permit type code,
    finished at, WIB or naive local time), then `complaint_answers` unlinked
    complaint-handling answers over `years` up to `today`."""
    rng = random.Random(f"{seed}:surveys")
    for number, service, finished_at in finished:
        if rng.random() >= application_share:
            continue
        moment = finished_at if finished_at.tzinfo else finished_at.replace(tzinfo=WIB)
        day = moment.date() + timedelta(days=rng.choice((0, 0, 1, 1, 2, 3, 5)))
        if day > today:
            continue
        yield _answer(rng, service, max(moment, _office_time(rng, day)), number)
    start = date(today.year - years, today.month, min(today.day, 28))
    span = (today - start).days
    for _ in range(complaint_answers):
        day = start + timedelta(days=rng.randrange(span + 1))
        yield _answer(rng, COMPLAINT_SERVICE, _office_time(rng, day), None)


def finished_applications(licensing_url: str) -> Iterator[tuple[str, str, datetime]]:
    """Issued or handed-over applications from the sample licensing database, oldest first."""
    from sqlalchemy import create_engine, select

    from demo.licensing.tables import licensing_tables

    tables = licensing_tables()
    p = tables.permohonan
    engine = create_engine(licensing_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(p.c.no_permohonan, p.c.kode_jenis_izin, p.c.tgl_selesai)
                .where(p.c.status.in_(("TERBIT", "DISERAHKAN")), p.c.tgl_selesai.is_not(None))
                .order_by(p.c.tgl_selesai, p.c.no_permohonan)
            )
            yield from ((r[0], r[1], r[2]) for r in rows)
    finally:
        engine.dispose()


def write_surveys(path: Path, *, licensing_url: str, seed: int, today: date,
                  application_share: float, complaint_answers: int) -> int:
    """Write the sample answers as JSON lines; returns how many."""
    count = 0
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as out:
        for row in generate_surveys(finished=finished_applications(licensing_url), seed=seed,
                                    today=today, application_share=application_share,
                                    complaint_answers=complaint_answers):
            out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
            count += 1
    temporary.replace(path)
    return count
