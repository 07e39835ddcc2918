"""The documents of an application, checked before anything reaches the source: each
names a requirement of the permit type, is not empty, is within the requirement's size
limit, and is — by its content, read with puremagic, not by its name — one of the
accepted types; a submission also carries every mandatory requirement.

Pure functions over what was uploaded (`Upload`: requirement, name, size, the first
bytes); every problem is told in Bahasa Indonesia and English."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

import puremagic

from connectors.records import PermitRequirement

SNIFF_BYTES = 8192
TYPE_NAMES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}


@dataclass(frozen=True, slots=True)
class Upload:
    requirement: str
    filename: str
    size: int
    types: tuple[str, ...]  # what the content looks like, best guess first


@dataclass(frozen=True, slots=True)
class Problem:
    requirement: str
    reason: str  # MISSING | EMPTY | TOO_LARGE | WRONG_TYPE | UNKNOWN_REQUIREMENT | DUPLICATE
    id: str
    en: str

    def as_extension(self) -> dict[str, Any]:
        return {"requirement": self.requirement, "reason": self.reason, "message": {"id": self.id, "en": self.en}}


def sniff(file: BinaryIO) -> tuple[str, ...]:
    """The media types the file's first bytes look like (the file is left at its start)."""
    file.seek(0)
    head = file.read(SNIFF_BYTES)
    file.seek(0)
    if not head:
        return ()
    try:
        found = puremagic.magic_string(head)
    except puremagic.PureError:
        return ()
    return tuple(dict.fromkeys(m.mime_type for m in found if m.mime_type))


def size_of(file: BinaryIO) -> int:
    file.seek(0, 2)
    size = file.tell()
    file.seek(0)
    return size


def _types(media_types: Iterable[str]) -> str:
    return ", ".join(TYPE_NAMES.get(t, t) for t in media_types)


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def check_documents(
    permit_type: str,
    requirements: Sequence[PermitRequirement],
    uploads: Sequence[Upload],
    *,
    need_mandatory: bool,
) -> list[Problem]:
    by_code = {req.code: req for req in requirements}
    problems: list[Problem] = []
    seen: set[str] = set()
    for upload in uploads:
        req = by_code.get(upload.requirement)
        code = upload.requirement
        if req is None:
            problems.append(Problem(code, "UNKNOWN_REQUIREMENT", f"Bukan persyaratan {permit_type}: {code[:40]}",
                                    f"Not a requirement of {permit_type}: {code[:40]}"))
            continue
        if code in seen:
            problems.append(Problem(code, "DUPLICATE", f"Satu berkas saja untuk {req.name}",
                                    f"Only one file for {req.name}"))
        seen.add(code)
        if upload.size == 0:
            problems.append(Problem(code, "EMPTY", f"Berkas {req.name} kosong (0 byte)",
                                    f"The file for {req.name} is empty (0 bytes)"))
        elif upload.size > req.max_bytes:
            problems.append(Problem(code, "TOO_LARGE", f"Berkas {req.name} lebih dari {_mb(req.max_bytes)}",
                                    f"The file for {req.name} is larger than {_mb(req.max_bytes)}"))
        elif not set(upload.types) & set(req.media_types):
            found = TYPE_NAMES.get(upload.types[0], upload.types[0]) if upload.types else None
            problems.append(Problem(
                code, "WRONG_TYPE",
                f"Isi berkas {req.name} bukan {_types(req.media_types)}" + (f" (terbaca: {found})" if found else ""),
                f"The content of {req.name} is not {_types(req.media_types)}" + (f" (found: {found})" if found else ""),
            ))
    if need_mandatory:
        for req in requirements:
            if req.mandatory and req.code not in seen:
                problems.append(Problem(req.code, "MISSING", f"Dokumen wajib belum dilampirkan: {req.name}",
                                        f"Required document missing: {req.name}"))
    return problems
