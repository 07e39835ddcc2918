"""Tracking an application or a complaint on the public page, answered on the server:
the form's GET (`/?jenis=permohonan&nomor=...`) needs no JavaScript.

The number is looked up as the kind the visitor chose and, if that finds nothing, as the
other kind: a complaint ticket typed under "Permohonan izin" is still recognised. Both
look-ups go through the public schema as the anonymous caller (`trackApplication`,
`trackComplaint`: status and dates, no personal data), so the page shows exactly what
`/graphql` shows the public, with its rate limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.public.executor import Execute

APPLICATION = "permohonan"
COMPLAINT = "pengaduan"
QUERIES = {
    APPLICATION: "query($n:String!){r:trackApplication(number:$n){number statusLabel{id} sourceStatus "
                 "dueDate overdue permitType{name} history{statusLabel{id} at}}}",
    COMPLAINT: "query($n:String!){r:trackComplaint(number:$n){number statusLabel{id} sourceStatus "
               "category history{statusLabel{id} at}}}",
}
MAX_LENGTH = 64


@dataclass(frozen=True, slots=True)
class Tracked:
    asked: str  # the kind the visitor chose
    number: str
    kind: str = ""  # the kind the number turned out to be
    record: dict[str, Any] | None = None
    message: str = ""

    @property
    def tone(self) -> str:
        if self.record is None:
            return "warn"
        return "warn" if self.record.get("overdue") else "ok"


def tracking_request(params: dict[str, str]) -> tuple[str, str] | None:
    """(kind, number) when the page was asked to track something."""
    number = params.get("nomor", "").strip()
    if not number:
        return None
    kind = params.get("jenis", APPLICATION)
    return (kind if kind in QUERIES else APPLICATION), number


async def track(execute: Execute, kind: str, number: str, request_id: str, address: str | None) -> Tracked:
    if len(number) > MAX_LENGTH:
        return Tracked(kind, number[:MAX_LENGTH], message=f"Nomor terlalu panjang (paling banyak {MAX_LENGTH} karakter).")
    refusal: str | None = None
    for candidate in (kind, *(k for k in QUERIES if k != kind)):
        body = await execute(QUERIES[candidate], {"n": number}, request_id, address)
        record = (body.get("data") or {}).get("r")
        if isinstance(record, dict):
            return Tracked(kind, number, kind=candidate, record=record)
        error = (body.get("errors") or [{}])[0]
        code = (error.get("extensions") or {}).get("code")
        if code == "RATE_LIMITED":
            return Tracked(kind, number, message="Terlalu banyak permintaan. Coba lagi sebentar lagi.")
        if code not in (None, "NOT_FOUND") and refusal is None:
            refusal = str(error.get("message") or "")
    if refusal:
        return Tracked(kind, number, message=f"Nomor {number} tidak dapat diperiksa: {refusal}")
    return Tracked(kind, number, message=f"Nomor {number} tidak ditemukan. Periksa kembali nomornya.")
