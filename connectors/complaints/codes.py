"""LAPOR!-style codes ↔ domain enums (demo/API.md, complaint service)."""

from __future__ import annotations

from connectors._codes import invert
from connectors.records import (
    COMPLAINT_FINISHED,
    ComplaintChannel,
    ComplaintClassification,
    ComplaintStatus,
    ComplaintVisibility,
)

STATUS: dict[str, ComplaintStatus] = {
    "DITERIMA": ComplaintStatus.RECEIVED,
    "TERVERIFIKASI": ComplaintStatus.VERIFIED,
    "DITUNDA": ComplaintStatus.POSTPONED,
    "BUKAN_WEWENANG": ComplaintStatus.OUT_OF_AUTHORITY,
    "DIARSIPKAN": ComplaintStatus.ARCHIVED,
    "DIDISPOSISIKAN": ComplaintStatus.DISPOSED,
    "DITINDAKLANJUTI": ComplaintStatus.FOLLOWED_UP,
    "TANGGAPAN_PELAPOR": ComplaintStatus.REPORTER_RESPONSE,
    "SELESAI": ComplaintStatus.RESOLVED,
}

CLASSIFICATION: dict[str, ComplaintClassification] = {
    "ASPIRASI": ComplaintClassification.ASPIRATION,
    "PENGADUAN": ComplaintClassification.COMPLAINT,
    "PERMINTAAN_INFORMASI": ComplaintClassification.INFORMATION_REQUEST,
}

CHANNEL: dict[str, ComplaintChannel] = {
    "WEBSITE": ComplaintChannel.WEBSITE,
    "APLIKASI_MOBILE": ComplaintChannel.MOBILE_APP,
    "SMS": ComplaintChannel.SMS,
    "MEDIA_SOSIAL": ComplaintChannel.SOCIAL_MEDIA,
    "LANGSUNG": ComplaintChannel.WALK_IN,
}

VISIBILITY: dict[str, ComplaintVisibility] = {
    "PUBLIK": ComplaintVisibility.PUBLIC,
    "RAHASIA": ComplaintVisibility.CONFIDENTIAL,
    "ANONIM": ComplaintVisibility.ANONYMOUS,
}

STATUS_CODES = invert(STATUS)
CLASSIFICATION_CODES = invert(CLASSIFICATION)
CHANNEL_CODES = invert(CHANNEL)
VISIBILITY_CODES = invert(VISIBILITY)

_S = ComplaintStatus

#: Allowed status changes (DESIGN.md workflow). Used by the in-memory backend; a real
#: source is the authority and answers 409 for what it forbids.
TRANSITIONS: dict[ComplaintStatus, frozenset[ComplaintStatus]] = {
    _S.RECEIVED: frozenset(
        {_S.VERIFIED, _S.POSTPONED, _S.OUT_OF_AUTHORITY, _S.ARCHIVED}
    ),
    _S.POSTPONED: frozenset({_S.VERIFIED, _S.OUT_OF_AUTHORITY, _S.ARCHIVED}),
    _S.VERIFIED: frozenset({_S.DISPOSED}),
    _S.DISPOSED: frozenset({_S.FOLLOWED_UP}),
    _S.FOLLOWED_UP: frozenset({_S.REPORTER_RESPONSE, _S.RESOLVED}),
    _S.REPORTER_RESPONSE: frozenset({_S.FOLLOWED_UP, _S.RESOLVED}),
    **{status: frozenset() for status in COMPLAINT_FINISHED},
}
