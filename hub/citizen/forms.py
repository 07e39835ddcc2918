"""The citizen page's forms: reading a posted multipart form with the same limits as a
GraphQL upload (hub.uploads), its documents as `DocumentInput` values, and a refused
operation's errors in Bahasa Indonesia."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect, Request

from hub.uploads import MAX_FILES

FILE_PREFIX = "berkas."
MAX_FIELDS = 40
MAX_FIELD_BYTES = 16 * 1024

#: errors told in the resident's words (other codes: the hub's message, with its code)
MESSAGES = {
    "IDEMPOTENCY_KEY_REUSED": "Formulir ini sudah pernah dikirim dengan isi yang berbeda. Periksa \"Permohonan "
                              "saya\"; bila belum ada, kirim lagi (formulir sudah diperbarui).",
    "SOURCE_UNAVAILABLE": "Sistem perizinan sedang tidak dapat dihubungi; berkas Anda belum tersimpan. Pilih berkas "
                          "lagi dan kirim ulang: permohonan tidak akan tercatat dua kali.",
    "NOT_FOUND": "Permohonan dengan nomor ini tidak ditemukan di antara permohonan Anda.",
    "NOT_INCOMPLETE": "Permohonan ini tidak sedang menunggu kelengkapan berkas.",
    "NO_DOCUMENTS": "Pilih setidaknya satu berkas untuk dikirim.",
    "UNKNOWN_PERMIT_TYPE": "Jenis izin tidak dikenal.",
    "TOO_MANY_DOCUMENTS": f"Paling banyak {MAX_FILES} berkas dalam satu pengiriman.",
    "FORBIDDEN": "Akun Anda tidak dapat mengajukan permohonan (NIK tidak terdaftar di wilayah ini).",
    "RATE_LIMITED": "Terlalu banyak permintaan; coba lagi sebentar lagi.",
}


class FormRefused(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


async def read_form(request: Request) -> FormData:
    """The posted form (close it when done). Raises FormRefused."""
    try:
        return await request.form(max_files=MAX_FILES, max_fields=MAX_FIELDS, max_part_size=MAX_FIELD_BYTES)
    except MultiPartException as exc:
        raise FormRefused("UPLOAD_INVALID", f"Formulir tidak dapat dibaca: terlalu banyak berkas (paling banyak "
                          f"{MAX_FILES}) atau isian terlalu panjang.") from exc
    except ClientDisconnect as exc:
        raise FormRefused("UPLOAD_TRUNCATED", "Pengiriman terputus sebelum selesai; kirim lagi.") from exc


def text(form: FormData, name: str, maximum: int = 200) -> str:
    value = form.get(name)
    return value.strip()[:maximum] if isinstance(value, str) else ""


def documents(form: FormData) -> list[dict[str, Any]]:
    """`[{"requirement", "file"}]` for every file chosen (an input left empty is skipped)."""
    chosen = []
    for name, value in form.multi_items():
        if name.startswith(FILE_PREFIX) and isinstance(value, UploadFile) and value.filename:
            chosen.append({"requirement": name.removeprefix(FILE_PREFIX)[:60], "file": value})
    return chosen


def problems_of(body: dict[str, Any]) -> tuple[str | None, list[str]]:
    """A refused operation as (its code, the messages to show); (None, []) when it went through."""
    errors = body.get("errors") or []
    if not errors:
        return None, []
    error = errors[0]
    extensions = error.get("extensions") or {}
    code = extensions.get("reason") or extensions.get("code") or "ERROR"
    listed = [p["message"]["id"] for p in extensions.get("problems") or () if (p.get("message") or {}).get("id")]
    if listed:
        return code, listed
    return code, [MESSAGES.get(code) or MESSAGES.get(extensions.get("code", "")) or
                  f"Permintaan tidak dapat diproses: {error.get('message', '')}"]
