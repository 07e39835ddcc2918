"""The SiCantik-style licensing workflow (DESIGN.md, "Licensing").

    DIAJUKAN -> PEMERIKSAAN_BERKAS -> (BERKAS_TIDAK_LENGKAP -> DIAJUKAN)
             -> ENTRY_DATA -> TINJAUAN_LAPANGAN | REKOMENDASI -> PENETAPAN
             -> DITOLAK | DRAFT_SK -> PARAF -> TTE -> TERBIT -> DISERAHKAN
    TERBIT, DISERAHKAN -> DICABUT;  any non-final status -> DIBATALKAN
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

STATUSES: tuple[str, ...] = (
    "DIAJUKAN",
    "PEMERIKSAAN_BERKAS",
    "BERKAS_TIDAK_LENGKAP",
    "ENTRY_DATA",
    "TINJAUAN_LAPANGAN",
    "REKOMENDASI",
    "PENETAPAN",
    "DITOLAK",
    "DRAFT_SK",
    "PARAF",
    "TTE",
    "TERBIT",
    "DISERAHKAN",
    "DICABUT",
    "DIBATALKAN",
)

#: Reaching one of these ends the service-level clock (`tgl_selesai` is set once).
FINAL_STATUSES: frozenset[str] = frozenset({"DITOLAK", "TERBIT", "DISERAHKAN", "DICABUT", "DIBATALKAN"})

_FORWARD: dict[str, frozenset[str]] = {
    "DIAJUKAN": frozenset({"PEMERIKSAAN_BERKAS"}),
    "PEMERIKSAAN_BERKAS": frozenset({"BERKAS_TIDAK_LENGKAP", "ENTRY_DATA"}),
    "BERKAS_TIDAK_LENGKAP": frozenset({"DIAJUKAN"}),
    "ENTRY_DATA": frozenset({"TINJAUAN_LAPANGAN", "REKOMENDASI"}),
    "TINJAUAN_LAPANGAN": frozenset({"PENETAPAN"}),
    "REKOMENDASI": frozenset({"PENETAPAN"}),
    "PENETAPAN": frozenset({"DITOLAK", "DRAFT_SK"}),
    "DRAFT_SK": frozenset({"PARAF"}),
    "PARAF": frozenset({"TTE"}),
    "TTE": frozenset({"TERBIT"}),
    "TERBIT": frozenset({"DISERAHKAN", "DICABUT"}),
    "DISERAHKAN": frozenset({"DICABUT"}),
}

#: status -> the statuses it may move to. Every status is a key (final ones map to
#: what is still allowed after them, possibly nothing).
TRANSITIONS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        status: _FORWARD.get(status, frozenset())
        | (frozenset({"DIBATALKAN"}) if status not in FINAL_STATUSES else frozenset())
        for status in STATUSES
    }
)

INITIAL_STATUS = "DIAJUKAN"
