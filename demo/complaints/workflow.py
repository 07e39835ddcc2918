"""The LAPOR!-style complaint workflow (DESIGN.md, "Complaints").

    DITERIMA -> TERVERIFIKASI | DITUNDA | BUKAN_WEWENANG | DIARSIPKAN
    DITUNDA -> TERVERIFIKASI
    TERVERIFIKASI -> DIDISPOSISIKAN -> DITINDAKLANJUTI <-> TANGGAPAN_PELAPOR
    DITINDAKLANJUTI, TANGGAPAN_PELAPOR -> SELESAI
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

STATUSES: tuple[str, ...] = (
    "DITERIMA",
    "TERVERIFIKASI",
    "DITUNDA",
    "BUKAN_WEWENANG",
    "DIARSIPKAN",
    "DIDISPOSISIKAN",
    "DITINDAKLANJUTI",
    "TANGGAPAN_PELAPOR",
    "SELESAI",
)

FINAL_STATUSES: frozenset[str] = frozenset({"SELESAI", "DIARSIPKAN", "BUKAN_WEWENANG"})

#: status -> the statuses it may move to; every status is a key.
TRANSITIONS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "DITERIMA": frozenset({"TERVERIFIKASI", "DITUNDA", "BUKAN_WEWENANG", "DIARSIPKAN"}),
        "DITUNDA": frozenset({"TERVERIFIKASI"}),
        "TERVERIFIKASI": frozenset({"DIDISPOSISIKAN"}),
        "DIDISPOSISIKAN": frozenset({"DITINDAKLANJUTI"}),
        "DITINDAKLANJUTI": frozenset({"TANGGAPAN_PELAPOR", "SELESAI"}),
        "TANGGAPAN_PELAPOR": frozenset({"DITINDAKLANJUTI", "SELESAI"}),
        "SELESAI": frozenset(),
        "DIARSIPKAN": frozenset(),
        "BUKAN_WEWENANG": frozenset(),
    }
)

INITIAL_STATUS = "DITERIMA"

CLASSIFICATIONS: tuple[str, ...] = ("ASPIRASI", "PENGADUAN", "PERMINTAAN_INFORMASI")
CHANNELS: tuple[str, ...] = ("WEBSITE", "APLIKASI_MOBILE", "SMS", "MEDIA_SOSIAL", "LANGSUNG")
VISIBILITIES: tuple[str, ...] = ("PUBLIK", "RAHASIA", "ANONIM")
