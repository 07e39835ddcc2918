"""What each permit type asks the applicant to upload (`persyaratan`), as the licensing
service serves it: a code, a name, whether it is mandatory, the accepted file types and
a size limit.

The sample data names each permit type's requirements; this module gives every name
its code and its file rules, the way a licensing office configures them:

    photos (pas foto, foto ...)           JPEG or PNG, up to 2 MB
    drawings and maps (gambar, denah ...)  PDF, up to 25 MB (scanned plans are large)
    everything else                       PDF, JPEG or PNG, up to 5 MB
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
MB = 1024 * 1024

#: Requirements an office accepts later rather than at submission.
OPTIONAL = frozenset({"Bukti bayar PBB tahun berjalan", "Foto tempat usaha"})

_PHOTO = re.compile(r"^(pas )?foto", re.IGNORECASE)
_DRAWING = re.compile(r"gambar|denah|peta|desain|as built", re.IGNORECASE)


def requirement_code(name: str) -> str:
    """`KTP pemohon` -> `KTP_PEMOHON` (upper case, one `_` between words, 40 at most)."""
    code = re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_")
    return code[:40].rstrip("_")


def requirement(name: str) -> dict[str, Any]:
    """One requirement in the service's shape (API.md, `persyaratan` of a permit type)."""
    if _PHOTO.search(name):
        types, limit = [JPEG, PNG], 2 * MB
    elif _DRAWING.search(name):
        types, limit = [PDF], 25 * MB
    else:
        types, limit = [PDF, JPEG, PNG], 5 * MB
    return {
        "kode": requirement_code(name),
        "nama": name,
        "wajib": name not in OPTIONAL,
        "tipe": types,
        "ukuran_maks": limit,
    }


def requirements(names: Iterable[str]) -> list[dict[str, Any]]:
    return [requirement(name) for name in names]
