"""The registry's records, as the hub sees them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date


class Programme(enum.StrEnum):
    PKH = "PKH"  # Program Keluarga Harapan
    BPNT = "BPNT"  # Bantuan Pangan Non-Tunai
    BLT_DD = "BLT_DD"  # BLT Dana Desa


class EnrolmentStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    ENDED = "ENDED"


#: the registry's own status codes
STATUS_CODES = {"AKTIF": EnrolmentStatus.ACTIVE, "DITANGGUHKAN": EnrolmentStatus.SUSPENDED,
                "SELESAI": EnrolmentStatus.ENDED}


@dataclass(frozen=True, slots=True)
class EnrolmentRecord:
    number: str  # the registry's enrolment number
    recipient_nik: str
    programme: Programme
    status: EnrolmentStatus
    source_status: str
    monthly_amount: int  # rupiah
    kelurahan_code: str
    since: date
    bank_account: str  # personal: the account the aid is paid into
