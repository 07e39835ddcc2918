"""Plain-language names of the workflow statuses, in Bahasa Indonesia and English."""

from __future__ import annotations

import strawberry

from connectors.records import ApplicationStatus as A, ComplaintStatus as C

LABELS: dict[A | C, tuple[str, str]] = {
    A.SUBMITTED: ("Diajukan", "Submitted"),
    A.FILE_CHECK: ("Pemeriksaan berkas", "Checking the file"),
    A.FILE_INCOMPLETE: ("Berkas tidak lengkap", "File incomplete"),
    A.DATA_ENTRY: ("Entri data", "Data entry"),
    A.FIELD_REVIEW: ("Tinjauan lapangan", "Field review"),
    A.RECOMMENDATION: ("Rekomendasi", "Recommendation"),
    A.DECISION: ("Penetapan", "Decision"),
    A.REJECTED: ("Ditolak", "Rejected"),
    A.DRAFT_DECREE: ("Draf SK", "Draft decree"),
    A.INITIALLED: ("Paraf", "Initialled"),
    A.SIGNED: ("Tanda tangan elektronik", "Electronically signed"),
    A.ISSUED: ("Izin terbit", "Permit issued"),
    A.DELIVERED: ("Diserahkan", "Handed over"),
    A.REVOKED: ("Dicabut", "Revoked"),
    A.CANCELLED: ("Dibatalkan", "Cancelled"),
    C.RECEIVED: ("Diterima", "Received"),
    C.VERIFIED: ("Terverifikasi", "Verified"),
    C.POSTPONED: ("Ditunda", "Postponed"),
    C.OUT_OF_AUTHORITY: ("Bukan wewenang", "Outside our authority"),
    C.ARCHIVED: ("Diarsipkan", "Archived"),
    C.DISPOSED: ("Didisposisikan", "Referred to the responsible unit"),
    C.FOLLOWED_UP: ("Ditindaklanjuti", "Being followed up"),
    C.REPORTER_RESPONSE: ("Tanggapan pelapor", "Awaiting the reporter's response"),
    C.RESOLVED: ("Selesai", "Resolved"),
}


@strawberry.type(description="A status in plain words.")
class StatusLabel:
    id: str = strawberry.field(description="Bahasa Indonesia")
    en: str = strawberry.field(description="English")


_CACHE: dict[A | C, StatusLabel] = {s: StatusLabel(id=i, en=e) for s, (i, e) in LABELS.items()}


def label_of(status: A | C) -> StatusLabel:
    return _CACHE[status]
