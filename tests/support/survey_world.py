"""Records and constants the analytics tests share (a module, so tests can import it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from connectors.records import (
    ApplicantKind,
    ApplicationRecord,
    ApplicationStatus,
    PermitType,
    RequestKind,
    StatusChange,
)

WIB = ZoneInfo("Asia/Jakarta")
PBG = PermitType("PBG", "Persetujuan Bangunan Gedung", 20)
IUMK = PermitType("IUMK", "Izin Usaha Mikro dan Kecil", 3)
ISSUED_PBG = "503/DPMPTSP/2025/000001-AB12"
ISSUED_IUMK = "503/DPMPTSP/2025/000002-CD34"
IN_PROGRESS = "503/DPMPTSP/2025/000003-EF56"
NOW = datetime(2025, 8, 20, 3, 0, tzinfo=UTC)

Execute = Callable[..., Awaitable[dict[str, Any]]]


def application(number: str, permit: PermitType, status: ApplicationStatus, source_status: str) -> ApplicationRecord:
    at = datetime(2025, 6, 2, 9, 0, tzinfo=WIB)
    return ApplicationRecord(
        number=number,
        applicant_kind=ApplicantKind.PERSON,
        applicant_nik="1471080101800001",
        applicant_name="Budi Santoso",
        company_name=None,
        permit_type=permit,
        request_kind=RequestKind.NEW,
        received_at=at,
        file_complete_at=at,
        kelurahan_code="1471081001",
        business_address=None,
        status=status,
        source_status=source_status,
        history=(StatusChange(ApplicationStatus.SUBMITTED, "DIAJUKAN", at),),
        finished_at=at if status is ApplicationStatus.ISSUED else None,
    )
