"""A small world for the public page: in-memory sources with a finished and a running
application, a complaint, and a hub store holding a few survey answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from connectors.memory import (
    InMemoryComplaintSource,
    InMemoryLicensingSource,
    InMemoryPopulationSource,
)
from connectors.records import (
    ApplicantKind,
    ApplicationRecord,
    ApplicationStatus,
    ComplaintChannel,
    ComplaintClassification,
    ComplaintRecord,
    ComplaintStatus,
    ComplaintVisibility,
    PermitType,
    RequestKind,
    StatusChange,
)
from connectors.surveys import SurveyResponse, SurveyStore
from hub.settings import Settings, load_settings
from hub.store import create_store_engine, create_tables
from schema.sources import Sources

WIB = ZoneInfo("Asia/Jakarta")
PBG = PermitType("PBG", "Persetujuan Bangunan Gedung", 20)
IUMK = PermitType("IUMK", "Izin Usaha Mikro dan Kecil", 3)
ISSUED = "503/DPMPTSP/2025/000001-AB12"
RUNNING = "503/DPMPTSP/2025/000002-CD34"
COMPLAINT = "LPR-2025-0001Q"
NOW = datetime.now(UTC)


def _application(number: str, status: ApplicationStatus, source_status: str, permit: PermitType) -> ApplicationRecord:
    at = NOW.astimezone(WIB) - timedelta(days=20)
    history = [StatusChange(ApplicationStatus.SUBMITTED, "DIAJUKAN", at),
               StatusChange(ApplicationStatus.FILE_CHECK, "PEMERIKSAAN_BERKAS", at + timedelta(hours=3))]
    if status is ApplicationStatus.ISSUED:
        history.append(StatusChange(ApplicationStatus.ISSUED, "TERBIT", at + timedelta(days=5)))
    return ApplicationRecord(
        number=number, applicant_kind=ApplicantKind.PERSON, applicant_nik="1471080101800001",
        applicant_name="Budi Santoso", company_name=None, permit_type=permit,
        request_kind=RequestKind.NEW, received_at=at, file_complete_at=at + timedelta(hours=4),
        kelurahan_code="1471081001", business_address="Jl. Garuda Sakti No. 1", status=status,
        source_status=source_status, history=tuple(history),
        finished_at=at + timedelta(days=5) if status is ApplicationStatus.ISSUED else None,
    )


def public_sources() -> Sources:
    at = NOW.astimezone(WIB) - timedelta(days=2)
    complaint = ComplaintRecord(
        number=COMPLAINT, title="Jalan berlubang", content="Mohon diperbaiki",
        classification=ComplaintClassification.COMPLAINT, category="Infrastruktur",
        kelurahan_code="1471081001", location="Jl. Delima", channel=ComplaintChannel.WEBSITE,
        visibility=ComplaintVisibility.PUBLIC, reporter_nik="1471084101830002", submitted_at=at,
        status=ComplaintStatus.RECEIVED, source_status="DITERIMA",
        history=(StatusChange(ComplaintStatus.RECEIVED, "DITERIMA", at),),
    )
    return Sources(
        InMemoryPopulationSource([]),
        InMemoryLicensingSource([_application(ISSUED, ApplicationStatus.ISSUED, "TERBIT", PBG),
                                 _application(RUNNING, ApplicationStatus.FILE_CHECK, "PEMERIKSAAN_BERKAS", IUMK)],
                                permit_types=[PBG, IUMK]),
        InMemoryComplaintSource([complaint]),
    )


def public_settings(tmp_path: Path) -> Settings:
    return load_settings(None, data_dir=tmp_path, store_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")


async def seed_surveys(settings: Settings, answers: list[tuple[str, tuple[int, ...]]]) -> None:
    engine = create_store_engine(settings.resolved_store_url)
    try:
        await create_tables(engine)
        await SurveyStore(engine).import_responses(
            SurveyResponse(service=service, scores=scores, submitted_at=NOW - timedelta(days=3))
            for service, scores in answers
        )
    finally:
        await engine.dispose()


ANSWERS = [
    ("PBG", (4, 3, 3, 4, 3, 3, 4, 3, 3)),
    ("PBG", (3, 3, 4, 3, 3, 4, 3, 3, 4)),
    ("IUMK", (4, 4, 3, 4, 4, 3, 4, 2, 3)),
]
