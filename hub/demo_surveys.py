"""`hub demo`: import the sample satisfaction-survey answers into an empty survey store.

`python -m demo generate` writes them as JSON lines into the data directory (the hub
does not import the demo package; the file is the contract). Nothing is imported when
the file is absent or the store already holds answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from connectors.records import Sex
from connectors.surveys import (
    AgeGroup,
    Education,
    Occupation,
    SurveyResponse,
    SurveyStore,
)
from hub.migrations import prepare_store
from hub.settings import Settings
from hub.store import create_store_engine

SURVEYS_FILE = "surveys.jsonl"


class SeedFileError(ValueError):
    code = "BAD_SEED_FILE"


def _coded(enum_type, value):  # type: ignore[no-untyped-def]
    return None if value is None else enum_type(value)


def read_seed_surveys(path: Path) -> Iterator[SurveyResponse]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                yield SurveyResponse(
                    service=row["service"],
                    scores=tuple(row["scores"]),
                    application_number=row.get("application_number"),
                    age_group=_coded(AgeGroup, row.get("age_group")),
                    sex=_coded(Sex, row.get("sex")),
                    education=_coded(Education, row.get("education")),
                    occupation=_coded(Occupation, row.get("occupation")),
                    submitted_at=datetime.fromisoformat(row["submitted_at"]),
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise SeedFileError(f"{path}:{number}: not a survey answer ({exc})") from exc


async def seed_demo_surveys(settings: Settings) -> int:
    """Import `<data_dir>/surveys.jsonl` into the hub store if it holds no answers yet."""
    path = settings.data_dir / SURVEYS_FILE
    if not path.is_file():
        return 0
    engine = create_store_engine(settings.resolved_store_url)
    try:
        await prepare_store(engine, settings.store_migrations)
        store = SurveyStore(engine)
        if await store.count():
            return 0
        return await store.import_responses(read_seed_surveys(path))
    finally:
        await engine.dispose()
