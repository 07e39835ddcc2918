"""Shared pieces of the service-metrics tests: hand-made cases around the 2025 Idul Fitri
closure, and the metrics store on SQLite or a throwaway PostgreSQL database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from connectors.metrics import metrics_metadata
from connectors.records import (
    ApplicantKind,
    ApplicationRecord,
    ApplicationStatus,
    ComplaintChannel,
    ComplaintClassification,
    ComplaintRecord,
    ComplaintStatus,
    ComplaintVisibility,
    Disposition,
    FollowUp,
    PermitType,
    RequestKind,
    StatusChange,
)
from tests.support.pg_database import postgres_database

WIB = ZoneInfo("Asia/Jakarta")
SIMPANG_BARU = "1471081001"
DELIMA = "1471081005"
IUMK = PermitType("IUMK", "Izin Usaha Mikro Kecil", 3)
PBG = PermitType("PBG", "Persetujuan Bangunan Gedung", 20)
REGION_FILE = Path(__file__).resolve().parents[2] / "hub" / "reference" / "regions.yaml"


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=WIB)


def application(
    number: str,
    *,
    complete: date | None = date(2025, 3, 27),
    finished: date | None = None,
    status: ApplicationStatus | None = None,
    permit: PermitType = IUMK,
    kelurahan: str = SIMPANG_BARU,
    received: date | None = None,
    name: str = "Budi Santoso",
    nik: str = "1471080101800001",
) -> ApplicationRecord:
    received_day = received or complete or date(2025, 3, 26)
    status = status or (ApplicationStatus.ISSUED if finished else ApplicationStatus.DATA_ENTRY)
    history = [StatusChange(ApplicationStatus.SUBMITTED, "DIAJUKAN", at(received_day, 9))]
    if finished:
        history.append(StatusChange(status, status.name, at(finished, 15)))
    return ApplicationRecord(
        number=number,
        applicant_kind=ApplicantKind.PERSON,
        applicant_nik=nik,
        applicant_name=name,
        company_name=None,
        permit_type=permit,
        request_kind=RequestKind.NEW,
        received_at=at(received_day, 9),
        file_complete_at=at(complete) if complete else None,
        kelurahan_code=kelurahan,
        business_address="Jl. Garuda Sakti No. 1",
        status=status,
        source_status=status.name,
        history=tuple(history),
        finished_at=at(finished, 15) if finished else None,
    )


def complaint(
    number: str,
    *,
    submitted: date = date(2025, 3, 27),
    steps: tuple[tuple[ComplaintStatus, date], ...] = (),
    category: str = "Infrastruktur",
    kelurahan: str = SIMPANG_BARU,
    follow_ups: tuple[date, ...] = (),
    visibility: ComplaintVisibility = ComplaintVisibility.PUBLIC,
    nik: str | None = "1471084101850002",
) -> ComplaintRecord:
    history = [StatusChange(ComplaintStatus.RECEIVED, "DITERIMA", at(submitted, 8))]
    history += [StatusChange(status, status.name, at(day)) for status, day in steps]
    status = history[-1].status
    return ComplaintRecord(
        number=number,
        title="Jalan berlubang",
        content="Mohon diperbaiki, terima kasih. Siti Aminah",
        classification=ComplaintClassification.COMPLAINT,
        category=category,
        kelurahan_code=kelurahan,
        location="Jl. Delima",
        channel=ComplaintChannel.WEBSITE,
        visibility=visibility,
        reporter_nik=nik,
        submitted_at=at(submitted, 8),
        status=status,
        source_status=status.name,
        dispositions=tuple(
            Disposition("Dinas PUPR", at(day)) for s, day in steps if s is ComplaintStatus.DISPOSED
        ),
        follow_ups=tuple(FollowUp("Dinas PUPR", at(day), "ditinjau") for day in follow_ups),
        history=tuple(history),
    )


async def _engine_for(url: str) -> AsyncEngine:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metrics_metadata.create_all)
    return engine


@pytest_asyncio.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """The metrics tables in a fresh SQLite file, or in a throwaway PostgreSQL database."""
    if request.param == "sqlite":
        engine = await _engine_for(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
        try:
            yield engine
        finally:
            await engine.dispose()
        return
    with postgres_database("test_metrics") as url:
        engine = await _engine_for(url)
        try:
            yield engine
        finally:
            await engine.dispose()


@pytest_asyncio.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = await _engine_for(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    try:
        yield engine
    finally:
        await engine.dispose()
