"""A small, hand-made world of records shared by the schema and hardening tests: two
kelurahan, six families, applications and complaints of every visibility."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
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
    CitizenRecord,
    ComplaintChannel,
    ComplaintClassification,
    ComplaintRecord,
    ComplaintStatus,
    ComplaintVisibility,
    FamilyRelationship,
    MaritalStatus,
    PermitType,
    Religion,
    RequestKind,
    Sex,
    StatusChange,
)

WIB = ZoneInfo("Asia/Jakarta")
SIMPANG_BARU = "1471081001"
SIDOMULYO_BARAT = "1471151002"
PBG = PermitType("PBG", "Persetujuan Bangunan Gedung", 20)
IUMK = PermitType("IUMK", "Izin Usaha Mikro Kecil", 3)


def nik(day: int, month: int, year: int, sex: Sex, serial: int) -> str:
    dd = day + (40 if sex is Sex.FEMALE else 0)
    return f"147108{dd:02d}{month:02d}{year % 100:02d}{serial:04d}"


def citizen(
    family: str, name: str, born: date, sex: Sex, relation: FamilyRelationship, kelurahan: str, serial: int
) -> CitizenRecord:
    return CitizenRecord(
        nik=nik(born.day, born.month, born.year, sex, serial),
        family_number=family,
        full_name=name,
        birth_place="Pekanbaru",
        birth_date=born,
        sex=sex,
        blood_type="O",
        religion=Religion.ISLAM,
        marital_status=MaritalStatus.MARRIED if relation is not FamilyRelationship.CHILD else MaritalStatus.SINGLE,
        family_relationship=relation,
        education="SLTA/Sederajat",
        occupation="Wiraswasta",
        mother_name="Ibu " + name.split()[0],
        address=f"Jl. Garuda Sakti No. {serial}",
        rt="001",
        rw="002",
        kelurahan_code=kelurahan,
        disability="Tuna Daksa" if serial == 5 else None,
        updated_at=datetime(2025, 1, 1, tzinfo=WIB) + timedelta(minutes=serial),
    )


@dataclass
class World:
    citizens: list[CitizenRecord]
    applications: list[ApplicationRecord]
    complaints: list[ComplaintRecord]

    def sources(self) -> tuple[InMemoryPopulationSource, InMemoryLicensingSource, InMemoryComplaintSource]:
        return (
            InMemoryPopulationSource(self.citizens),
            InMemoryLicensingSource(self.applications, permit_types=[PBG, IUMK]),
            InMemoryComplaintSource(self.complaints),
        )


def build_world() -> World:
    people: list[CitizenRecord] = []
    serial = 1
    for i in range(6):
        kelurahan = SIMPANG_BARU if i % 2 == 0 else SIDOMULYO_BARAT
        family = f"1471080101{i:02d}0001"
        people.append(citizen(family, f"Budi Santoso {i}", date(1980, 1, 1 + i), Sex.MALE, FamilyRelationship.HEAD, kelurahan, serial))
        people.append(citizen(family, f"Siti Aminah {i}", date(1983, 2, 1 + i), Sex.FEMALE, FamilyRelationship.WIFE, kelurahan, serial + 1))
        people.append(citizen(family, f"Rizky Pratama {i}", date(2008, 3, 1 + i), Sex.MALE, FamilyRelationship.CHILD, kelurahan, serial + 2))
        serial += 3
    applications = []
    received = datetime(2025, 6, 2, 9, 0, tzinfo=WIB)
    for i, head in enumerate(p for p in people if p.family_relationship is FamilyRelationship.HEAD):
        at = received + timedelta(days=7 * i)
        finished = i % 2 == 0
        status = ApplicationStatus.ISSUED if finished else ApplicationStatus.FILE_CHECK
        applications.append(
            ApplicationRecord(
                number=f"503/DPMPTSP/2025/{i + 1:06d}-X{i}",
                applicant_kind=ApplicantKind.PERSON,
                applicant_nik=head.nik,
                applicant_name=head.full_name,
                company_name=None,
                permit_type=PBG if i % 3 else IUMK,
                request_kind=RequestKind.NEW,
                received_at=at,
                file_complete_at=at + timedelta(days=1),
                kelurahan_code=head.kelurahan_code,
                business_address=head.address,
                status=status,
                source_status="TERBIT" if finished else "PEMERIKSAAN_BERKAS",
                history=(StatusChange(ApplicationStatus.SUBMITTED, "DIAJUKAN", at),),
                finished_at=at + timedelta(days=10) if finished else None,
            )
        )
    complaints = []
    visibilities = [ComplaintVisibility.PUBLIC, ComplaintVisibility.CONFIDENTIAL, ComplaintVisibility.ANONYMOUS]
    for i, wife in enumerate(p for p in people if p.family_relationship is FamilyRelationship.WIFE):
        at = received + timedelta(days=3 * i)
        complaints.append(
            ComplaintRecord(
                number=f"LPR-2025-{i:04d}Q",
                title=f"Jalan berlubang {i}",
                content="Mohon diperbaiki",
                classification=ComplaintClassification.COMPLAINT,
                category="Infrastruktur",
                kelurahan_code=wife.kelurahan_code,
                location="Jl. Delima",
                channel=ComplaintChannel.WEBSITE,
                visibility=visibilities[i % 3],
                reporter_nik=wife.nik,
                submitted_at=at,
                status=ComplaintStatus.RECEIVED,
                source_status="DITERIMA",
                history=(StatusChange(ComplaintStatus.RECEIVED, "DITERIMA", at),),
            )
        )
    return World(people, applications, complaints)
