"""Domain records: what every connector returns, whatever its backend.

These are the hub's own shapes, in English, independent of any source's column
names or status codes. The source's own code is kept beside the mapped value
(`source_status`) so that nothing the source said is lost in translation.

Records are frozen, slotted dataclasses: cheap to build in bulk and safe to share
between concurrent requests.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import BinaryIO, Generic, TypeVar


class Sex(enum.Enum):
    MALE = "MALE"  # JENIS_KLMIN 1
    FEMALE = "FEMALE"  # JENIS_KLMIN 2


class Religion(enum.Enum):
    ISLAM = "ISLAM"
    KRISTEN = "KRISTEN"
    KATOLIK = "KATOLIK"
    HINDU = "HINDU"
    BUDDHA = "BUDDHA"
    KHONGHUCU = "KHONGHUCU"
    KEPERCAYAAN = "KEPERCAYAAN"


class MaritalStatus(enum.Enum):
    SINGLE = "SINGLE"  # 1 Belum Kawin
    MARRIED = "MARRIED"  # 2 Kawin
    DIVORCED = "DIVORCED"  # 3 Cerai Hidup
    WIDOWED = "WIDOWED"  # 4 Cerai Mati


class FamilyRelationship(enum.Enum):
    """STAT_HBKEL 1..11."""

    HEAD = "HEAD"  # 1 Kepala Keluarga
    HUSBAND = "HUSBAND"  # 2 Suami
    WIFE = "WIFE"  # 3 Istri
    CHILD = "CHILD"  # 4 Anak
    CHILD_IN_LAW = "CHILD_IN_LAW"  # 5 Menantu
    GRANDCHILD = "GRANDCHILD"  # 6 Cucu
    PARENT = "PARENT"  # 7 Orang Tua
    PARENT_IN_LAW = "PARENT_IN_LAW"  # 8 Mertua
    OTHER_FAMILY = "OTHER_FAMILY"  # 9 Famili Lain
    HOUSEHOLD_HELPER = "HOUSEHOLD_HELPER"  # 10 Pembantu
    OTHER = "OTHER"  # 11 Lainnya


class ApplicantKind(enum.Enum):
    PERSON = "PERSON"  # PERORANGAN
    COMPANY = "COMPANY"  # BADAN_USAHA


class RequestKind(enum.Enum):
    NEW = "NEW"  # BARU
    CHANGE = "CHANGE"  # PERUBAHAN
    EXTENSION = "EXTENSION"  # PERPANJANGAN


class ApplicationStatus(enum.Enum):
    """SiCantik-style workflow, in order of the regular path."""

    SUBMITTED = "SUBMITTED"  # DIAJUKAN
    FILE_CHECK = "FILE_CHECK"  # PEMERIKSAAN_BERKAS
    FILE_INCOMPLETE = "FILE_INCOMPLETE"  # BERKAS_TIDAK_LENGKAP
    DATA_ENTRY = "DATA_ENTRY"  # ENTRY_DATA
    FIELD_REVIEW = "FIELD_REVIEW"  # TINJAUAN_LAPANGAN
    RECOMMENDATION = "RECOMMENDATION"  # REKOMENDASI
    DECISION = "DECISION"  # PENETAPAN
    REJECTED = "REJECTED"  # DITOLAK
    DRAFT_DECREE = "DRAFT_DECREE"  # DRAFT_SK
    INITIALLED = "INITIALLED"  # PARAF
    SIGNED = "SIGNED"  # TTE
    ISSUED = "ISSUED"  # TERBIT
    DELIVERED = "DELIVERED"  # DISERAHKAN
    REVOKED = "REVOKED"  # DICABUT
    CANCELLED = "CANCELLED"  # DIBATALKAN


#: Statuses after which an application no longer runs against its service level.
APPLICATION_FINISHED = frozenset(
    {
        ApplicationStatus.REJECTED,
        ApplicationStatus.ISSUED,
        ApplicationStatus.DELIVERED,
        ApplicationStatus.REVOKED,
        ApplicationStatus.CANCELLED,
    }
)


class ComplaintClassification(enum.Enum):
    ASPIRATION = "ASPIRATION"  # ASPIRASI
    COMPLAINT = "COMPLAINT"  # PENGADUAN
    INFORMATION_REQUEST = "INFORMATION_REQUEST"  # PERMINTAAN_INFORMASI


class ComplaintVisibility(enum.Enum):
    PUBLIC = "PUBLIC"  # PUBLIK
    CONFIDENTIAL = "CONFIDENTIAL"  # RAHASIA: hidden from the public
    ANONYMOUS = "ANONYMOUS"  # ANONIM: public, reporter hidden


class ComplaintChannel(enum.Enum):
    WEBSITE = "WEBSITE"
    MOBILE_APP = "MOBILE_APP"  # APLIKASI_MOBILE
    SMS = "SMS"
    SOCIAL_MEDIA = "SOCIAL_MEDIA"  # MEDIA_SOSIAL
    WALK_IN = "WALK_IN"  # LANGSUNG


class ComplaintStatus(enum.Enum):
    """LAPOR!-style workflow."""

    RECEIVED = "RECEIVED"  # DITERIMA
    VERIFIED = "VERIFIED"  # TERVERIFIKASI
    POSTPONED = "POSTPONED"  # DITUNDA
    OUT_OF_AUTHORITY = "OUT_OF_AUTHORITY"  # BUKAN_WEWENANG
    ARCHIVED = "ARCHIVED"  # DIARSIPKAN
    DISPOSED = "DISPOSED"  # DIDISPOSISIKAN
    FOLLOWED_UP = "FOLLOWED_UP"  # DITINDAKLANJUTI
    REPORTER_RESPONSE = "REPORTER_RESPONSE"  # TANGGAPAN_PELAPOR
    RESOLVED = "RESOLVED"  # SELESAI


COMPLAINT_FINISHED = frozenset(
    {ComplaintStatus.RESOLVED, ComplaintStatus.ARCHIVED, ComplaintStatus.OUT_OF_AUTHORITY}
)


@dataclass(frozen=True, slots=True)
class CitizenRecord:
    """One resident of the population registry (SIAK BIODATA_WNI row)."""

    nik: str
    family_number: str  # NO_KK
    full_name: str  # NAMA_LGKP
    birth_place: str  # TMPT_LHR
    birth_date: date  # TGL_LHR
    sex: Sex  # JENIS_KLMIN
    blood_type: str | None  # GOL_DRH, as a label ("A", "AB+", ...); None when unknown
    religion: Religion  # AGAMA
    marital_status: MaritalStatus  # STAT_KWN
    family_relationship: FamilyRelationship  # STAT_HBKEL
    education: str | None  # PDDK_AKH, as a label
    occupation: str | None  # JENIS_PKRJN, as a label
    mother_name: str  # NAMA_LGKP_IBU
    address: str  # ALAMAT
    rt: str  # NO_RT
    rw: str  # NO_RW
    kelurahan_code: str  # NO_PROP+NO_KAB+NO_KEC+NO_KEL, 10 digits ("1471081001")
    disability: str | None = None  # protected category
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PermitType:
    code: str
    name: str
    service_level_days: int  # working days, counted from a complete file


@dataclass(frozen=True, slots=True)
class Requirement:
    name: str
    fulfilled: bool
    code: str | None = None  # the permit type's requirement code (PermitRequirement.code)
    requested: bool = False  # an officer asked for it (the file is incomplete without it)


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One step of a workflow history; `status` is an ApplicationStatus or ComplaintStatus."""

    status: ApplicationStatus | ComplaintStatus
    source_status: str
    at: datetime
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ApplicationRecord:
    """One permit application (SiCantik-style permohonan)."""

    number: str
    applicant_kind: ApplicantKind
    applicant_nik: str | None  # the person applying (for a company, its representative)
    applicant_name: str
    company_name: str | None
    permit_type: PermitType
    request_kind: RequestKind
    received_at: datetime
    file_complete_at: datetime | None  # the service-level clock starts here
    kelurahan_code: str  # where the applicant / business is located
    business_address: str | None
    status: ApplicationStatus
    source_status: str
    requirements: tuple[Requirement, ...] = ()
    history: tuple[StatusChange, ...] = ()
    finished_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Disposition:
    to_unit: str
    at: datetime
    note: str | None = None


@dataclass(frozen=True, slots=True)
class FollowUp:
    unit: str
    at: datetime
    content: str


@dataclass(frozen=True, slots=True)
class ComplaintRecord:
    """One complaint (LAPOR!-style laporan)."""

    number: str
    title: str
    content: str
    classification: ComplaintClassification
    category: str
    kelurahan_code: str
    location: str | None
    channel: ComplaintChannel
    visibility: ComplaintVisibility
    reporter_nik: str | None
    submitted_at: datetime
    status: ComplaintStatus
    source_status: str
    dispositions: tuple[Disposition, ...] = ()
    follow_ups: tuple[FollowUp, ...] = ()
    history: tuple[StatusChange, ...] = ()


# -- queries -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Keyset pagination: `after` is an opaque cursor returned by a previous page."""

    first: int
    after: str | None = None
    with_total: bool = False


R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Page(Generic[R]):
    items: list[R]
    end_cursor: str | None  # cursor of the last item (None when empty)
    has_next: bool
    total: int | None = None  # only when asked for (`with_total`)


@dataclass(frozen=True, slots=True)
class CitizenFilter:
    kelurahan_codes: tuple[str, ...] | None = None  # None: no restriction
    name_contains: str | None = None  # case-insensitive
    family_number: str | None = None
    sex: Sex | None = None
    born_from: date | None = None
    born_to: date | None = None


@dataclass(frozen=True, slots=True)
class ApplicationFilter:
    applicant_niks: tuple[str, ...] | None = None
    kelurahan_codes: tuple[str, ...] | None = None
    statuses: tuple[ApplicationStatus, ...] | None = None
    permit_types: tuple[str, ...] | None = None
    received_from: date | None = None
    received_to: date | None = None  # inclusive
    name_contains: str | None = None  # applicant or company name


@dataclass(frozen=True, slots=True)
class ComplaintFilter:
    reporter_niks: tuple[str, ...] | None = None
    kelurahan_codes: tuple[str, ...] | None = None
    statuses: tuple[ComplaintStatus, ...] | None = None
    categories: tuple[str, ...] | None = None
    classifications: tuple[ComplaintClassification, ...] | None = None
    visibilities: tuple[ComplaintVisibility, ...] | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None  # inclusive


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of a source's change feed."""

    key: str  # NIK, application number or complaint number
    at: datetime


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    changes: list[Change]
    cursor: str | None  # pass back as `since` to continue; None when nothing was returned
    has_more: bool = False


@dataclass(frozen=True, slots=True)
class NewComplaint:
    """A complaint as submitted through the hub."""

    title: str
    content: str
    classification: ComplaintClassification
    category: str
    kelurahan_code: str
    location: str | None = None
    channel: ComplaintChannel = ComplaintChannel.WEBSITE
    visibility: ComplaintVisibility = ComplaintVisibility.PUBLIC
    reporter_nik: str | None = None


@dataclass(frozen=True, slots=True)
class SourceHealth:
    source: str
    up: bool
    detail: str | None = None
    checked_at: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)


# -- online applications (issue 24) --------------------------------------------------


@dataclass(frozen=True, slots=True)
class PermitRequirement:
    """What a permit type asks the applicant to upload, as its source defines it."""

    code: str
    name: str
    mandatory: bool
    media_types: tuple[str, ...]  # accepted, by content
    max_bytes: int


@dataclass(frozen=True, slots=True)
class NewApplication:
    """An application as a citizen submits it through the hub."""

    applicant_nik: str
    applicant_name: str
    permit_type: str
    kelurahan_code: str
    request_kind: RequestKind = RequestKind.NEW
    applicant_kind: ApplicantKind = ApplicantKind.PERSON
    company_name: str | None = None
    business_address: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentUpload:
    """One document on its way to the source: `file` is read in chunks, from the start,
    on every attempt (a seekable binary file, e.g. a spooled upload)."""

    requirement: str
    filename: str
    file: BinaryIO
    size: int


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """One stored document of an application (its content stays at the source)."""

    id: str
    application_number: str
    requirement: str
    filename: str
    media_type: str
    size: int
    sha256: str
    uploaded_at: datetime
