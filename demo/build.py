"""Generate all three sample sources into a data directory and write its manifest.

    <data_dir>/population.db   BIODATA_WNI (or the table at `population_url`)
    <data_dir>/licensing.db    the licensing service's storage
    <data_dir>/complaints.db   the complaint service's storage
    <data_dir>/surveys.jsonl   sample satisfaction-survey answers (the hub imports them)
    <data_dir>/manifest.json   counts, seed, generation date, seconds taken

Residents stream from the generator into the population database; a bounded sample
of adults is kept on the way to serve as applicants and complaint reporters.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from demo.generator.complaints_data import categories, generate_complaints
from demo.generator.errors import GeneratorInputError
from demo.generator.licensing_data import generate_applications, permit_types
from demo.generator.people import generate_families
from demo.generator.regions import load_region
from demo.generator.sample import ResidentSample
from demo.generator.surveys_data import SURVEYS_FILE, write_surveys
from demo.generator.volumes import (
    APPLICATIONS_PER_1000_PER_YEAR,
    COMPLAINTS_PER_1000_PER_YEAR,
    answer_share,
    count_over,
    survey_sample,
    yearly,
)
from demo.data_format import DATA_FORMAT
from demo.population import load_population

YEARS = 2  # of activity up to the generation date
MANIFEST = "manifest.json"
T = TypeVar("T")

Progress = Callable[[str], None]
# (step, done, total) while a step runs: "population", "licensing", "complaints", "surveys"
Counter = Callable[[str, int, int], None]
COUNT_EVERY = 500


def _counted(step: str, items: Iterable[T], total: int, counter: Counter | None) -> Iterator[T]:
    """Pass `items` through, telling `counter` how many went by every COUNT_EVERY."""
    if counter is None:
        yield from items
        return
    done = 0
    counter(step, 0, total)
    for item in items:
        yield item
        done += 1
        if done % COUNT_EVERY == 0:
            counter(step, done, total)
    counter(step, done, max(total, done))


def build_demo_data(
    data_dir: Path,
    *,
    residents: int,
    region_file: Path,
    seed: int = 2026,
    population_url: str | None = None,
    today: date | None = None,
    progress: Progress | None = None,
    counter: Counter | None = None,
) -> dict[str, Any]:
    """Generate residents, applications and complaints; return the manifest written."""
    if residents < 1:
        raise GeneratorInputError(f"residents must be at least 1, got {residents}")
    say = progress or (lambda _message: None)
    started = time.perf_counter()
    today = today or date.today()
    region = load_region(region_file)
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / MANIFEST).unlink(missing_ok=True)  # absent until the build is complete
    application_count = count_over(residents, APPLICATIONS_PER_1000_PER_YEAR, YEARS)
    complaint_count = count_over(residents, COMPLAINTS_PER_1000_PER_YEAR, YEARS)

    sample = ResidentSample(size=max(application_count, complaint_count, 100), seed=seed,
                            today=today)
    families = 0

    def rows() -> Any:
        nonlocal families
        for family in generate_families(region=region, residents=residents, seed=seed,
                                        today=today):
            families += 1
            for row in family:
                sample.add(row)
                yield row

    url = population_url or f"sqlite:///{data_dir / 'population.db'}"
    say(f"population: generating {residents} residents into {_display(url)}")
    loaded = load_population(url, _counted("population", rows(), residents, counter))
    say(f"population: {loaded} residents in {families} families "
        f"({time.perf_counter() - started:.1f} s)")

    from demo.complaints import storage as complaint_storage
    from demo.licensing import storage as licensing_storage

    applicants = sample.residents
    step = time.perf_counter()
    applications = licensing_storage.load(
        f"sqlite:///{data_dir / 'licensing.db'}",
        permit_types=permit_types(),
        applications=_counted("licensing", generate_applications(
            applicants=applicants, count=application_count, seed=seed, today=today, years=YEARS,
        ), application_count, counter),
    )
    say(f"licensing: {applications} applications ({time.perf_counter() - step:.1f} s)")
    step = time.perf_counter()
    complaints = complaint_storage.load(
        f"sqlite:///{data_dir / 'complaints.db'}",
        categories=categories(),
        complaints=_counted("complaints", generate_complaints(
            region=region, reporters=applicants, count=complaint_count, seed=seed, today=today,
            years=YEARS,
        ), complaint_count, counter),
    )
    say(f"complaints: {complaints} complaints ({time.perf_counter() - step:.1f} s)")
    step = time.perf_counter()
    surveys = write_surveys(data_dir / SURVEYS_FILE, licensing_url=f"sqlite:///{data_dir / 'licensing.db'}",
                            seed=seed, today=today,
                            application_share=answer_share(yearly(residents, APPLICATIONS_PER_1000_PER_YEAR)),
                            complaint_answers=round(YEARS * survey_sample(
                                yearly(residents, COMPLAINTS_PER_1000_PER_YEAR))))
    say(f"surveys: {surveys} satisfaction-survey answers ({time.perf_counter() - step:.1f} s)")

    manifest = {
        "format": DATA_FORMAT,
        "residents": loaded,
        "families": families,
        "applications": applications,
        "complaints": complaints,
        "surveys": surveys,
        "seed": seed,
        "generation_date": today.isoformat(),
        "region": region.name,
        "population_url": _display(url),
        "seconds": round(time.perf_counter() - started, 2),
    }
    (data_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def read_manifest(data_dir: Path) -> dict[str, Any] | None:
    """The manifest of a complete earlier build, or None (absent or unreadable)."""
    try:
        manifest = json.loads((Path(data_dir) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _display(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url
