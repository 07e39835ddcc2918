"""Online applications at the licensing source: requirements per permit type, a new
application with its documents, more documents, the list of documents and a document's
content (demo/API.md, "Applications and documents").

Documents go as one multipart request, streamed from their (spooled) files in chunks;
the source writes an application and its documents all or nothing, under the
Idempotency-Key, so a retry after a failure creates it once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, BinaryIO

import orjson

from connectors._codes import parse_datetime
from connectors._rest import RECORD_ERRORS, RestCollection
from connectors.errors import SourceUnavailable
from connectors.http import SourceHttpClient, path_key
from connectors.licensing import codes
from connectors.records import (
    ApplicationRecord,
    DocumentRecord,
    DocumentUpload,
    NewApplication,
    PermitRequirement,
)

#: seconds allowed per byte sent on top of the configured timeout (1 MB/s at worst);
#: under the resilience guard, its per-attempt budget (the same rule) bounds it too
SECONDS_PER_BYTE = 1 / 1_000_000

Files = list[tuple[str, tuple[str, BinaryIO, str]]]


def _files(documents: Sequence[DocumentUpload]) -> Files:
    """Multipart file parts named by requirement code; the declared type is neutral
    (the source judges the content, as the hub did)."""
    return [(d.requirement, (d.filename, d.file, "application/octet-stream")) for d in documents]


def _upload_timeout(http: SourceHttpClient, documents: Sequence[DocumentUpload]) -> float:
    return http.timeout + sum(d.size for d in documents) * SECONDS_PER_BYTE


def application_body(new: NewApplication) -> dict[str, Any]:
    return {
        "jenis_pemohon": codes.APPLICANT_KIND_CODES[new.applicant_kind],
        "nik_pemohon": new.applicant_nik,
        "nama_pemohon": new.applicant_name,
        "nama_perusahaan": new.company_name,
        "kode_jenis_izin": new.permit_type,
        "jenis_permohonan": codes.REQUEST_KIND_CODES[new.request_kind],
        "kode_kelurahan": new.kelurahan_code,
        "alamat_usaha": new.business_address,
    }


def parse_requirement(item: Mapping[str, Any]) -> PermitRequirement:
    types = item["tipe"]
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise TypeError("tipe must be a list of strings")
    size = item["ukuran_maks"]
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise TypeError("ukuran_maks must be a non-negative integer")
    return PermitRequirement(
        code=str(item["kode"]),
        name=str(item["nama"]),
        mandatory=bool(item["wajib"]),
        media_types=tuple(types),
        max_bytes=size,
    )


def parse_document(number: str, item: Mapping[str, Any]) -> DocumentRecord:
    return DocumentRecord(
        id=str(item["id"]),
        application_number=number,
        requirement=str(item["kode_persyaratan"]),
        filename=str(item["nama_file"]),
        media_type=str(item["tipe"]),
        size=int(item["ukuran"]),
        sha256=str(item["sha256"]),
        uploaded_at=parse_datetime(item["diunggah"]),
    )


class LicensingIntake:
    """Mixed into the REST licensing backend (which provides `_http` and `_records`)."""

    _http: SourceHttpClient
    _records: RestCollection[ApplicationRecord]
    path: str

    async def requirements(self) -> dict[str, list[PermitRequirement]]:
        """Permit type code -> its requirements (one call: they come with the types)."""
        operation = "requirements"
        answer = await self._http.request("GET", "/api/v1/jenis-izin", operation=operation)
        try:
            return {
                str(item["kode"]): [parse_requirement(req) for req in item.get("persyaratan") or ()]
                for item in self._records.data_list(answer, operation)
            }
        except RECORD_ERRORS as exc:
            raise SourceUnavailable(self._http.source_id, "malformed requirement list", operation=operation) from exc

    async def submit_application(
        self, new: NewApplication, documents: Sequence[DocumentUpload], *, idempotency_key: str | None = None
    ) -> ApplicationRecord:
        return await self._records.one(
            "POST",
            self.path,
            "submit_application",
            form={"data": orjson.dumps(application_body(new)).decode()},
            files=_files(documents),
            idempotency_key=idempotency_key,
            timeout=_upload_timeout(self._http, documents),
        )

    async def add_documents(
        self, number: str, documents: Sequence[DocumentUpload], *, idempotency_key: str | None = None
    ) -> ApplicationRecord:
        return await self._records.one(
            "POST",
            f"{self.path}/{path_key(number)}/berkas",
            "add_documents",
            files=_files(documents),
            idempotency_key=idempotency_key,
            timeout=_upload_timeout(self._http, documents),
        )

    async def mark_incomplete(
        self, number: str, missing: Sequence[str], *, note: str | None, actor: str, idempotency_key: str | None = None
    ) -> ApplicationRecord:
        """BERKAS_TIDAK_LENGKAP, naming the requirements the applicant must (re)send."""
        return await self._records.one(
            "POST",
            f"{self.path}/{path_key(number)}/status",
            "mark_incomplete",
            json={"status": "BERKAS_TIDAK_LENGKAP", "catatan": note, "petugas": actor, "kekurangan": list(missing)},
            idempotency_key=idempotency_key,
        )

    async def documents(self, number: str) -> list[DocumentRecord]:
        operation = "documents"
        answer = await self._http.request("GET", f"{self.path}/{path_key(number)}/berkas", operation=operation)
        try:
            return [parse_document(number, item) for item in self._records.data_list(answer, operation)]
        except RECORD_ERRORS as exc:
            raise SourceUnavailable(self._http.source_id, "malformed document list", operation=operation) from exc

    @asynccontextmanager
    async def open_document(self, number: str, document_id: str) -> AsyncIterator[AsyncIterator[bytes]]:
        """The content of one document, as chunks read from the source as they come."""
        path = f"{self.path}/{path_key(number)}/berkas/{path_key(document_id)}"
        async with self._http.stream(path, operation="open_document") as response:
            yield response.aiter_bytes()
