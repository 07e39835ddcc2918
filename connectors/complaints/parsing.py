"""A `laporan` JSON object → `ComplaintRecord`; request bodies from filters and input."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors._codes import lookup, optional_text, parse_datetime, text
from connectors._parsing import codes_of, search_filters, status_history
from connectors.complaints import codes
from connectors.records import (
    ComplaintFilter,
    ComplaintRecord,
    Disposition,
    FollowUp,
    NewComplaint,
)


def parse_complaint(data: Mapping[str, Any]) -> ComplaintRecord:
    """Raises `UnknownCode`, `KeyError`, `ValueError` or `TypeError` on a bad record."""
    source_status = data["status"]
    return ComplaintRecord(
        number=text(data["no_tiket"]),
        title=text(data["judul"]),
        content=text(data["isi"]),
        classification=lookup("klasifikasi", codes.CLASSIFICATION, data["klasifikasi"]),
        category=text(data["kategori"]),
        kelurahan_code=text(data["kode_kelurahan"]),
        location=optional_text(data.get("lokasi")),
        channel=lookup("kanal", codes.CHANNEL, data["kanal"]),
        visibility=lookup("kerahasiaan", codes.VISIBILITY, data["kerahasiaan"]),
        reporter_nik=optional_text(data.get("nik_pelapor")),
        submitted_at=parse_datetime(data["tgl_lapor"]),
        status=lookup("status", codes.STATUS, source_status),
        source_status=source_status,
        dispositions=tuple(
            Disposition(
                to_unit=text(item["ke_unit"]),
                at=parse_datetime(item["waktu"]),
                note=optional_text(item.get("catatan")),
            )
            for item in data.get("disposisi") or ()
        ),
        follow_ups=tuple(
            FollowUp(
                unit=text(item["unit"]),
                at=parse_datetime(item["waktu"]),
                content=text(item["isi"]),
            )
            for item in data.get("tindak_lanjut") or ()
        ),
        history=status_history(data, codes.STATUS),
    )


def search_body(flt: ComplaintFilter) -> dict[str, Any] | None:
    """The `/cari` filters for `flt`; None when an empty list makes it match nothing."""
    lists: dict[str, tuple[str, ...] | None] = {
        "nik_pelapor": flt.reporter_niks,
        "kode_kelurahan": flt.kelurahan_codes,
        "status": codes_of(flt.statuses, codes.STATUS_CODES),
        "kategori": flt.categories,
        "klasifikasi": codes_of(flt.classifications, codes.CLASSIFICATION_CODES),
        "kerahasiaan": codes_of(flt.visibilities, codes.VISIBILITY_CODES),
    }
    return search_filters(
        lists, date_from=flt.submitted_from, date_to=flt.submitted_to
    )


def submit_body(complaint: NewComplaint) -> dict[str, Any]:
    return {
        "judul": complaint.title,
        "isi": complaint.content,
        "klasifikasi": codes.CLASSIFICATION_CODES[complaint.classification],
        "kategori": complaint.category,
        "kode_kelurahan": complaint.kelurahan_code,
        "lokasi": complaint.location,
        "kanal": codes.CHANNEL_CODES[complaint.channel],
        "kerahasiaan": codes.VISIBILITY_CODES[complaint.visibility],
        "nik_pelapor": complaint.reporter_nik,
    }

