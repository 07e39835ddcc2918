"""A `permohonan` JSON object → `ApplicationRecord` (and the search body from a filter)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors._codes import (
    lookup,
    optional_text,
    parse_datetime,
    parse_optional_datetime,
    text,
)
from connectors._parsing import codes_of, search_filters, status_history
from connectors.licensing import codes
from connectors.records import (
    ApplicationFilter,
    ApplicationRecord,
    PermitType,
    Requirement,
)


def parse_application(data: Mapping[str, Any]) -> ApplicationRecord:
    """Raises `UnknownCode`, `KeyError`, `ValueError` or `TypeError` on a bad record."""
    source_status = data["status"]
    sla = data["sla_hari"]
    if not isinstance(sla, int) or isinstance(sla, bool):
        raise TypeError("sla_hari must be an integer")
    return ApplicationRecord(
        number=text(data["no_permohonan"]),
        applicant_kind=lookup(
            "jenis_pemohon", codes.APPLICANT_KIND, data["jenis_pemohon"]
        ),
        applicant_nik=optional_text(data.get("nik_pemohon")),
        applicant_name=text(data["nama_pemohon"]),
        company_name=optional_text(data.get("nama_perusahaan")),
        permit_type=PermitType(
            code=text(data["kode_jenis_izin"]),
            name=text(data["nama_jenis_izin"]),
            service_level_days=sla,
        ),
        request_kind=lookup(
            "jenis_permohonan", codes.REQUEST_KIND, data["jenis_permohonan"]
        ),
        received_at=parse_datetime(data["tgl_pengajuan"]),
        file_complete_at=parse_optional_datetime(data.get("tgl_berkas_lengkap")),
        kelurahan_code=text(data["kode_kelurahan"]),
        business_address=optional_text(data.get("alamat_usaha")),
        status=lookup("status", codes.STATUS, source_status),
        source_status=source_status,
        requirements=tuple(
            Requirement(
                name=text(item["nama"]),
                fulfilled=bool(item["terpenuhi"]),
                code=optional_text(item.get("kode")),
                requested=bool(item.get("diminta", False)),
            )
            for item in data.get("persyaratan") or ()
        ),
        history=status_history(data, codes.STATUS),
        finished_at=parse_optional_datetime(data.get("tgl_selesai")),
    )


def search_body(flt: ApplicationFilter) -> dict[str, Any] | None:
    """The `/cari` filters for `flt`; None when an empty list makes it match nothing."""
    lists: dict[str, tuple[str, ...] | None] = {
        "nik_pemohon": flt.applicant_niks,
        "kode_kelurahan": flt.kelurahan_codes,
        "status": codes_of(flt.statuses, codes.STATUS_CODES),
        "kode_jenis_izin": flt.permit_types,
    }
    body = search_filters(lists, date_from=flt.received_from, date_to=flt.received_to)
    if body is not None and flt.name_contains:
        body["nama"] = flt.name_contains
    return body
