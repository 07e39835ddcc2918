"""SiCantik-style codes ↔ domain enums (demo/API.md, licensing service)."""

from __future__ import annotations

from connectors._codes import invert
from connectors.records import (
    APPLICATION_FINISHED,
    ApplicantKind,
    ApplicationStatus,
    RequestKind,
)

STATUS: dict[str, ApplicationStatus] = {
    "DIAJUKAN": ApplicationStatus.SUBMITTED,
    "PEMERIKSAAN_BERKAS": ApplicationStatus.FILE_CHECK,
    "BERKAS_TIDAK_LENGKAP": ApplicationStatus.FILE_INCOMPLETE,
    "ENTRY_DATA": ApplicationStatus.DATA_ENTRY,
    "TINJAUAN_LAPANGAN": ApplicationStatus.FIELD_REVIEW,
    "REKOMENDASI": ApplicationStatus.RECOMMENDATION,
    "PENETAPAN": ApplicationStatus.DECISION,
    "DITOLAK": ApplicationStatus.REJECTED,
    "DRAFT_SK": ApplicationStatus.DRAFT_DECREE,
    "PARAF": ApplicationStatus.INITIALLED,
    "TTE": ApplicationStatus.SIGNED,
    "TERBIT": ApplicationStatus.ISSUED,
    "DISERAHKAN": ApplicationStatus.DELIVERED,
    "DICABUT": ApplicationStatus.REVOKED,
    "DIBATALKAN": ApplicationStatus.CANCELLED,
}

REQUEST_KIND: dict[str, RequestKind] = {
    "BARU": RequestKind.NEW,
    "PERUBAHAN": RequestKind.CHANGE,
    "PERPANJANGAN": RequestKind.EXTENSION,
}

APPLICANT_KIND: dict[str, ApplicantKind] = {
    "PERORANGAN": ApplicantKind.PERSON,
    "BADAN_USAHA": ApplicantKind.COMPANY,
}

STATUS_CODES = invert(STATUS)
REQUEST_KIND_CODES = invert(REQUEST_KIND)
APPLICANT_KIND_CODES = invert(APPLICANT_KIND)

_S = ApplicationStatus
_REGULAR: dict[ApplicationStatus, set[ApplicationStatus]] = {
    _S.SUBMITTED: {_S.FILE_CHECK},
    _S.FILE_CHECK: {_S.FILE_INCOMPLETE, _S.DATA_ENTRY},
    _S.FILE_INCOMPLETE: {_S.SUBMITTED},
    _S.DATA_ENTRY: {_S.FIELD_REVIEW, _S.RECOMMENDATION},
    _S.FIELD_REVIEW: {_S.RECOMMENDATION, _S.DECISION},
    _S.RECOMMENDATION: {_S.DECISION},
    _S.DECISION: {_S.REJECTED, _S.DRAFT_DECREE},
    _S.DRAFT_DECREE: {_S.INITIALLED},
    _S.INITIALLED: {_S.SIGNED},
    _S.SIGNED: {_S.ISSUED},
    _S.ISSUED: {_S.DELIVERED, _S.REVOKED},
    _S.DELIVERED: {_S.REVOKED},
    _S.REJECTED: set(),
    _S.REVOKED: set(),
    _S.CANCELLED: set(),
}

#: Allowed status changes (DESIGN.md workflow; anything still in progress may be
#: cancelled). Used by the in-memory backend; a real source is the authority and
#: answers 409 for what it forbids.
TRANSITIONS: dict[ApplicationStatus, frozenset[ApplicationStatus]] = {
    status: frozenset(
        targets | ({_S.CANCELLED} if status not in APPLICATION_FINISHED else set())
    )
    for status, targets in _REGULAR.items()
}
