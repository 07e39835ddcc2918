"""A registry export for the sample world's residents (tests.support.sample_world)."""

from __future__ import annotations

from pathlib import Path

HEADER = "NO_PESERTA;NIK;PROGRAM;STATUS;NOMINAL_BULANAN;KODE_KELURAHAN;TGL_MULAI;NO_REKENING"


def write_export(path: Path, citizens: list, *, extra_lines: list[str] = ()) -> Path:
    """One PKH enrolment per family head, a BPNT one for the first; the bank account is
    `ACC-<nik>` so a test can look for it in any output."""
    lines = [HEADER]
    heads = [c for c in citizens if c.family_relationship.name == "HEAD"]
    for i, head in enumerate(heads):
        lines.append(f"PKH-{i:04d};{head.nik};PKH;AKTIF;750000;{head.kelurahan_code};2024-0{1 + i % 9}-01;ACC-{head.nik}")
    first = heads[0]
    lines.append(f"BPNT-0001;{first.nik};BPNT;SELESAI;200000;{first.kelurahan_code};2022-05-01;ACC-{first.nik}")
    lines.extend(extra_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
